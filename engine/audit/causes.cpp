#include "engine/audit/causes.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "engine/rules/findings.hpp"

namespace seam {
namespace {

// A count as rules print one: optional minus, digits, then the unit it is in, if any
// ("-24", "-24 each"); a lag is none. Returns the number and the unit.
std::optional<std::pair<int64_t, std::string>> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc()) return std::nullopt;
  std::string_view rest(end, static_cast<size_t>(text.data() + text.size() - end));
  if (rest.empty()) return std::pair<int64_t, std::string>{v, ""};
  if (rest.size() < 2 || rest[0] != ' ') return std::nullopt;
  // A lag ("105 min", "2 days") is late, not an amount: no stake.
  if (rest == " min" || rest == " day" || rest == " days") return std::nullopt;
  for (char c : rest.substr(1))
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return std::nullopt;
  return std::pair<int64_t, std::string>{v, std::string(rest.substr(1))};
}

}  // namespace

std::optional<Stake> exception_stake(std::string_view delta, bool has_amounts, int64_t left_amount,
                                     int64_t right_amount, CurrencyCode currency) {
  if (auto money = parse_money_text(delta)) return Stake{money->first, money->second};
  if (auto count = parse_count(delta)) return Stake{count->first, 0, count->second};
  int64_t diff = 0;
  if (has_amounts && currency && checked_sub(right_amount, left_amount, diff)) return Stake{diff, currency};
  return std::nullopt;
}

Explanation explain_effect(const std::optional<Stake>& effect, std::vector<CauseCandidate> candidates,
                           const std::string& expects) {
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  // Two declared causes can name the same exception: it explains once.
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const auto& a, const auto& b) { return a.id == b.id; }),
                   candidates.end());
  Explanation out;
  for (auto& c : candidates)
    if (c.expects.empty()) c.expects = expects;
  auto any = [](const CauseCandidate& c) { return c.expects == "any"; };
  int64_t remaining = 0;
  const bool measurable = effect && effect->amount != 0 && checked_abs(effect->amount, remaining);
  const bool only_any = candidates.empty() ? expects == "any" : std::all_of(candidates.begin(), candidates.end(), any);
  if (measurable && !only_any) {
    out.measured = true;
    out.of = remaining;
    out.currency = effect->currency;
  }
  for (const auto& c : candidates) {
    if (any(c)) {
      out.links.push_back({c.id, std::nullopt});
      continue;
    }
    if (!measurable) continue;
    const bool same = c.expects != "opposite_sign";
    int64_t magnitude = 0;
    if (!c.stake || c.stake->currency != effect->currency || c.stake->unit != effect->unit || c.stake->amount == 0 ||
        !checked_abs(c.stake->amount, magnitude))
      continue;
    if (((c.stake->amount < 0) == (effect->amount < 0)) != same) continue;
    int64_t part = std::min(magnitude, remaining);
    remaining -= part;
    out.explained += part;
    out.links.push_back({c.id, part});
  }
  return out;
}

std::string format_stake(int64_t amount, CurrencyCode currency) {
  return currency ? format_money(amount, currency) : std::to_string(amount);
}

void link_causes(Db& db, const std::string& stack, const std::vector<ReconcileReport>& reports) {
  Statement find(db, "SELECT id FROM exceptions WHERE stack_name = ?1 AND reconcile = ?2 AND group_key = ?3 AND rule = ?4");
  Statement cause(db,
                  "SELECT id, coalesce(delta, ''), coalesce(currency, ''), left_amount, right_amount FROM exceptions "
                  "WHERE stack_name = ?1 AND reconcile = ?2 AND group_key = ?3 AND (?4 = '' OR rule = ?4) "
                  "AND status IN ('open', 'acknowledged') ORDER BY id");
  Statement forget(db, "DELETE FROM exception_causes WHERE effect_id = ?1");
  Statement add(db, "INSERT INTO exception_causes (effect_id, cause_id, explains, currency) VALUES (?1, ?2, ?3, ?4)");
  Statement first(db, "UPDATE exceptions SET caused_by = ?2 WHERE id = ?1");
  // Exceptions linked before, by (reconcile, key, rule): one whose rule no longer declares a
  // cause loses its links when it fails again, rather than keeping a stale explanation.
  std::unordered_map<std::string, int64_t> linked;
  {
    Statement s(db, "SELECT id, reconcile, group_key, rule FROM exceptions WHERE stack_name = ?1 AND "
                    "(caused_by IS NOT NULL OR id IN (SELECT effect_id FROM exception_causes))");
    s.bind(1, stack);
    while (s.step()) linked[s.text_at(1) + '\x1f' + s.text_at(2) + '\x1f' + s.text_at(3)] = s.int_at(0);
  }
  for (const auto& rec : reports)
    for (const auto& f : rec.findings) {
      if (!is_exception(f.outcome)) continue;
      if (f.causes.empty()) {
        if (linked.empty()) continue;
        auto was = linked.find(rec.name + '\x1f' + f.key + '\x1f' + f.rule);
        if (was == linked.end()) continue;
        forget.bind(1, was->second).run();
        first.bind(1, was->second).bind_null(2).run();
        continue;
      }
      find.bind(1, stack).bind(2, rec.name).bind(3, f.key).bind(4, f.rule);
      if (!find.step()) {
        find.reset();
        continue;
      }
      int64_t effect_id = find.int_at(0);
      find.reset();
      std::vector<CauseCandidate> candidates;
      for (const auto& declared : f.causes)
      for (const auto& key : declared.keys) {
        cause.bind(1, stack).bind(2, declared.reconcile).bind(3, key).bind(4, declared.rule);
        // With any rule as the cause, a key failing several rules is still one amount: the
        // exception with the largest known stake stands for it (the oldest on a tie), so
        // one load missing and also late never explains its money twice.
        std::optional<CauseCandidate> best;
        int64_t best_magnitude = -1;
        while (cause.step()) {
          if (cause.int_at(0) == effect_id) continue;
          CurrencyCode cur = pack_currency(cause.text_at(2));
          bool amounts = cur && !cause.is_null(3) && !cause.is_null(4);
          CauseCandidate c{cause.int_at(0),
                           exception_stake(cause.text_at(1), amounts, amounts ? cause.int_at(3) : 0,
                                           amounts ? cause.int_at(4) : 0, cur),
                           declared.explains};
          int64_t magnitude = 0;
          if (!c.stake || !checked_abs(c.stake->amount, magnitude)) magnitude = 0;
          if (magnitude > best_magnitude) {
            best = c;
            best_magnitude = magnitude;
          }
        }
        cause.reset();
        if (best) candidates.push_back(*best);
      }
      Explanation why = explain_effect(
          exception_stake(f.verdict.delta, f.currency != 0, f.left_amount, f.right_amount, f.currency),
          std::move(candidates), "same_sign");  // every candidate brings its cause's expectation
      forget.bind(1, effect_id).run();
      std::string currency = why.currency ? currency_name(why.currency) : std::string();
      for (const auto& link : why.links) {
        add.bind(1, effect_id).bind(2, link.cause_id);
        if (link.explains) add.bind(3, *link.explains);
        else add.bind_null(3);
        if (link.explains) add.bind_optional(4, currency);
        else add.bind_null(4);
        add.run();
      }
      first.bind(1, effect_id);
      if (why.links.empty()) first.bind_null(2);
      else first.bind(2, why.links.front().cause_id);
      first.run();
    }
}

}  // namespace seam
