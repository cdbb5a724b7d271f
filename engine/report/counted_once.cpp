#include "engine/report/counted_once.hpp"

#include <tuple>
#include <unordered_set>

#include "engine/util/result.hpp"

#include "engine/value/money.hpp"

namespace seam {

CauseGraph load_cause_graph(Db& db) {
  CauseGraph g;
  Statement s(db, "SELECT l.effect_id, l.cause_id, l.explains, coalesce(l.currency, ''), "
                  "c.reconcile, c.group_key, c.rule, e.reconcile, e.group_key, e.rule FROM exception_causes l "
                  "JOIN exceptions c ON c.id = l.cause_id JOIN exceptions e ON e.id = l.effect_id "
                  "ORDER BY l.effect_id, l.cause_id");
  while (s.step()) {
    std::optional<int64_t> explains;
    if (!s.is_null(2)) explains = s.int_at(2);
    const CurrencyCode cur = pack_currency(s.text_at(3));
    g.causes_of[s.int_at(0)].push_back({s.int_at(1), s.text_at(4), s.text_at(5), s.text_at(6), explains, cur});
    g.consequences_of[s.int_at(1)].push_back({s.int_at(0), s.text_at(7), s.text_at(8), s.text_at(9), explains, cur});
  }
  return g;
}

CauseLinks measured_links(const CauseGraph& graph) {
  CauseLinks out;
  for (const auto& [effect, causes] : graph.causes_of)
    for (const auto& c : causes)
      if (c.explains && c.currency) out[effect].push_back({c.id, *c.explains, c.currency});
  return out;
}

namespace {
std::string explains_text(const LinkedException& l) {
  if (!l.explains) return "";
  return l.currency ? format_money(*l.explains, l.currency) : std::to_string(*l.explains);
}
}  // namespace

std::string linked_text(const std::vector<LinkedException>& links) {
  std::string out;
  for (const auto& l : links) {
    out += (out.empty() ? "#" : "; #") + std::to_string(l.id) + " " + l.reconcile + " " + l.key + " (" + l.rule + ")";
    if (l.explains) out += ", explains " + explains_text(l);
  }
  return out;
}

std::string linked_short(const std::vector<LinkedException>& links) {
  std::string out;
  for (const auto& l : links) out += (out.empty() ? "#" : ", #") + std::to_string(l.id) + " " + l.key;
  return out;
}

void linked_json(JsonWriter& j, const std::vector<LinkedException>& links) {
  j.begin_array();
  for (const auto& l : links)
    j.begin_object().key("id").value(l.id).key("reconcile").value(l.reconcile).key("key").value(l.key)
        .key("rule").value(l.rule).key("explains").optional(l.explains.has_value(), explains_text(l)).end_object();
  j.end_array();
}

std::vector<int64_t> explained_by_causes(const std::vector<ExceptionRow>& rows, const CauseLinks& links) {
  std::vector<int64_t> out(rows.size(), 0);
  if (links.empty()) return out;
  std::unordered_set<int64_t> reported;
  for (const auto& r : rows) reported.insert(r.id);
  for (size_t i = 0; i < rows.size(); ++i) {
    const ExceptionRow& r = rows[i];
    auto it = links.find(r.id);
    if (it == links.end() || !r.has_amounts) continue;
    int64_t net = 0, magnitude = 0;
    if (!checked_sub(r.right_amount, r.left_amount, net) || net == 0 || !checked_abs(net, magnitude)) continue;
    int64_t explained = 0;
    for (const auto& link : it->second) {
      if (link.currency != r.currency || !reported.count(link.cause_id)) continue;
      // Each link explains at most what is left (link_causes caps them so already).
      explained = link.explains >= magnitude - explained ? magnitude : explained + link.explains;
    }
    out[i] = net < 0 ? -explained : explained;
  }
  return out;
}

std::map<std::string, std::map<CurrencyCode, MoneyOnce>> money_once_by(
    const std::vector<ExceptionRow>& rows, const CauseLinks& links,
    const std::function<std::string(const ExceptionRow&)>& group_of) {
  struct Key {
    int64_t stake = 0, explained = 0;
    CurrencyCode currency = 0;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Key> keys;  // group, reconcile, key
  const std::vector<int64_t> explained = explained_by_causes(rows, links);
  for (size_t i = 0; i < rows.size(); ++i) {
    const ExceptionRow& r = rows[i];
    if (!r.currency) continue;
    auto [it, first] = keys.try_emplace({group_of(r), r.reconcile, r.key});
    Key& k = it->second;
    if (first) {
      k.currency = r.currency;
      // list_exceptions checked both fit: right - left, else the money delta with its sign.
      k.stake = r.has_amounts ? r.right_amount - r.left_amount
                              : (!r.delta.empty() && r.delta[0] == '-' ? -r.amount_minor : r.amount_minor);
    }
    if ((explained[i] < 0 ? -explained[i] : explained[i]) > (k.explained < 0 ? -k.explained : k.explained))
      k.explained = explained[i];
  }
  std::map<std::string, std::map<CurrencyCode, MoneyOnce>> out;
  for (const auto& [where, k] : keys) {
    int64_t own = 0, magnitude = 0;
    MoneyOnce& m = out[std::get<0>(where)][k.currency];
    if (!checked_sub(k.stake, k.explained, own) || !checked_abs(own, magnitude) ||
        !checked_accumulate(m.at_stake, magnitude) || !checked_accumulate(m.net, own))
      throw UserError("the money at stake in " + currency_name(k.currency) + " of " + std::get<0>(where) +
                      " exceeds " + int64_range_text() +
                      "; narrow the report (--reconcile, --key, --since/--until) so that each total fits");
  }
  return out;
}

std::map<std::string, std::map<CurrencyCode, int64_t>> at_stake_once_by_status(const std::vector<ExceptionRow>& rows,
                                                                              const CauseLinks& links) {
  std::map<std::string, std::map<CurrencyCode, int64_t>> out;
  for (const auto& [status, by_currency] : money_once_by(rows, links, [](const ExceptionRow& r) { return r.status; }))
    for (const auto& [cur, m] : by_currency) out[status][cur] = m.at_stake;
  return out;
}

}  // namespace seam
