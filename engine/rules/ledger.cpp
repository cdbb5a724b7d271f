// ledger_equal: two ledgers of entries for one key, entries paired by id or by amount and
// time, balances compared entry by entry.
#include "engine/rules/families.hpp"

#include <algorithm>
#include <map>

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

// Each side's entries in time order (ties by id), compared entry by entry; the first pair
// that differs by more than the tolerance, or the first entry one side lacks, is where the
// ledgers part ways. The running balance up to there goes in the message; the final
// balances are the verdict's expected and actual.
class LedgerEqual final : public CompiledRule {
 public:
  // `counts`: the amounts are quantities in base units (a SKU's receipts, picks, shipments
  // and cycle counts), not money. `le`/`re`: entry id fields that pair entries (-1: pair by
  // amount and time). `window_us`: how far apart in time paired entries may be (-1: any).
  LedgerEqual(const RuleSpec& r, int la, int ra, int lt, int rt, int le, int re, std::optional<Decimal> tol, bool counts,
              int64_t window_us, std::string unit)
      : rule_(r), la_(la), ra_(ra), lt_(lt), rt_(rt), le_(le), re_(re), tol_(tol), counts_(counts), unit_(std::move(unit)),
        window_us_(window_us) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty() && r.rows.empty()) return Verdict::make(Outcome::Skip, "no entries");
    Ledger left, right;
    if (auto problem = read(l, la_, lt_, le_, left); !problem.empty()) return Verdict::make(Outcome::Fail, problem);
    if (auto problem = read(r, ra_, rt_, re_, right); !problem.empty()) return Verdict::make(Outcome::Fail, problem);
    CurrencyCode cur = left.currency ? left.currency : right.currency;
    if (left.currency && right.currency && left.currency != right.currency)
      return Verdict::make(Outcome::Fail, std::string(r.system) + " ledger is in " + currency_name(right.currency) +
                                              ", " + l.system + " in " + currency_name(left.currency));
    int64_t tol = tol_ ? tol_->to_scale(counts_ ? 0 : currency_scale(cur)) : 0;
    const char* units = counts_ ? "base units" : "minor units";
    int64_t lfinal = 0, rfinal = 0;
    // Every running balance below is a prefix of these sums, so it overflows only if they do.
    for (const auto& e : left.entries)
      if (!checked_accumulate(lfinal, e.minor)) return overflow_error("the balance of " + rule_.left_field, l, units);
    for (const auto& e : right.entries)
      if (!checked_accumulate(rfinal, e.minor)) return overflow_error("the balance of " + rule_.right_field, r, units);
    int64_t final_delta = 0;
    if (!checked_sub(rfinal, lfinal, final_delta))
      return overflow_error("the difference (right - left) between the final balances", l, r, units);

    // Pair entries: by entry id when declared, else each left entry (in time order) with the
    // unpaired right entry of an amount within tolerance closest in time (within the window),
    // so same-day entries posted in another order, or dated without a time, still pair.
    std::vector<int> pair_of_left(left.entries.size(), -1), pair_of_right(right.entries.size(), -1);
    std::vector<char> amount_differs(left.entries.size(), 0);
    for (size_t i = 0; i < left.entries.size(); ++i) {
      const Entry& le = left.entries[i];
      int best = -1;
      int64_t best_gap = INT64_MAX;
      for (size_t j = 0; j < right.entries.size(); ++j) {
        if (pair_of_right[j] >= 0) continue;
        const Entry& re = right.entries[j];
        if (le_ >= 0) {
          if (le.id != re.id) continue;
          best = static_cast<int>(j);
          break;
        }
        int64_t d = 0, ad = 0;
        if (!checked_sub(re.minor, le.minor, d) || !checked_abs(d, ad) || ad > tol) continue;
        int64_t gap = 0;
        if (__builtin_sub_overflow(re.at, le.at, &gap)) continue;
        gap = gap == INT64_MIN ? INT64_MAX : std::llabs(gap);
        if (window_us_ >= 0 && gap > window_us_) continue;
        if (gap < best_gap) {  // ties keep the earlier right entry (time order, then id)
          best = static_cast<int>(j);
          best_gap = gap;
        }
      }
      if (best < 0) continue;
      pair_of_left[i] = best;
      pair_of_right[static_cast<size_t>(best)] = static_cast<int>(i);
      if (le_ >= 0) {
        int64_t d = 0, ad = 0;
        amount_differs[i] = !checked_sub(right.entries[static_cast<size_t>(best)].minor, le.minor, d) ||
                            !checked_abs(d, ad) || ad > tol;
      }
    }
    // The first entry whose pairing fails, in time order (left before right at the same time).
    const Entry* bad = nullptr;
    bool bad_left = true;
    size_t bad_index = 0;
    for (size_t i = 0; i < left.entries.size(); ++i)
      if (pair_of_left[i] < 0 || amount_differs[i]) {
        bad = &left.entries[i];
        bad_index = i;
        break;
      }
    for (size_t j = 0; j < right.entries.size(); ++j)
      if (pair_of_right[j] < 0) {
        if (!bad || right.entries[j].at < bad->at) {
          bad = &right.entries[j];
          bad_left = false;
          bad_index = j;
        }
        break;
      }
    if (!bad) return Verdict::pass();
    // The balance both ledgers agree on before it: the entries paired ahead of it (in its
    // own ledger's order), each side's sum of them.
    int64_t lbal = 0, rbal = 0;  // prefixes of entries of the final sums (checked above)
    for (size_t k = 0; k < left.entries.size(); ++k) {
      int p = pair_of_left[k];
      if (p < 0 || amount_differs[k]) continue;
      if (bad_left ? k >= bad_index : static_cast<size_t>(p) >= bad_index) continue;
      lbal += left.entries[k].minor;
      rbal += right.entries[static_cast<size_t>(p)].minor;
    }
    std::string n = std::to_string(bad_index + 1), where;
    if (bad_left && pair_of_left[bad_index] >= 0)
      where = "entry " + n + ": " + l.system + " " + describe(l, *bad, cur) + " and " + r.system + " " +
              describe(r, right.entries[static_cast<size_t>(pair_of_left[bad_index])], cur) + " differ";
    else if (bad_left)
      where = "entry " + n + ": " + l.system + " " + describe(l, *bad, cur) + " has no " + r.system + " entry";
    else
      where = "entry " + n + ": " + r.system + " " + describe(r, *bad, cur) + " has no " + l.system + " entry";
    where += lbal == rbal ? "; balances agreed at " + show(lbal, cur) + " before it"
                          : "; balances before it " + std::string(l.system) + " " + show(lbal, cur) + ", " + r.system +
                                " " + show(rbal, cur);
    return Verdict::make(Outcome::Fail,
                         "ledgers part ways at " + where + "; final balance " + l.system + " " + show(lfinal, cur) +
                             ", " + r.system + " " + show(rfinal, cur),
                         show(lfinal, cur), show(rfinal, cur), show(final_delta, cur));
  }

 private:
  struct Entry {
    TimeUs at;
    int64_t minor;
    uint32_t row;
    std::string_view id;  // the entry id field's text, when pairing by id
  };
  struct Ledger {
    std::vector<Entry> entries;
    CurrencyCode currency = 0;
  };
  std::string show(int64_t v, CurrencyCode cur) const { return counts_ ? count_text(v, unit_) : format_money(v, cur); }
  std::string read(const SideRef& s, int amount, int time, int entry, Ledger& out) const {
    for (uint32_t row : s.rows) {
      const Value& a = s.rs->get(row, static_cast<size_t>(amount));
      const Value& t = s.rs->get(row, static_cast<size_t>(time));
      std::string who = std::string(s.system) + " " + std::string(s.rs->id(row));
      if (a.kind != (counts_ ? ValueKind::Integer : ValueKind::Money))
        return who + " has no " + (counts_ ? "quantity" : "amount") + " (" + display(a) + ")";
      if (t.kind != ValueKind::Time) return who + " has no time (" + display(t) + ")";
      if (out.currency && a.currency != out.currency)
        return std::string(s.system) + " entries mix " + currency_name(out.currency) + " and " + currency_name(a.currency);
      out.currency = a.currency;
      std::string_view id;
      if (entry >= 0) {
        const Value& e = s.rs->get(row, static_cast<size_t>(entry));
        if (e.kind != ValueKind::Text || e.text().empty()) return who + " has no entry id (" + display(e) + ")";
        id = e.text();
      }
      out.entries.push_back({t.i, a.i, row, id});
    }
    std::stable_sort(out.entries.begin(), out.entries.end(), [&](const Entry& x, const Entry& y) {
      return x.at != y.at ? x.at < y.at : s.rs->id(x.row) < s.rs->id(y.row);
    });
    return {};
  }
  std::string describe(const SideRef& s, const Entry& e, CurrencyCode cur) const {
    return std::string(s.rs->id(e.row)) + " (" + format_time_iso(e.at) + ", " + show(e.minor, cur) + ")";
  }
  const RuleSpec& rule_;
  int la_, ra_, lt_, rt_, le_, re_;
  std::optional<Decimal> tol_;
  bool counts_;
  std::string unit_;  // counts: the base unit they are in (empty for plain integers)
  int64_t window_us_;
};

}  // namespace

std::unique_ptr<CompiledRule> compile_ledger(const RuleSpec& rule, const ReconcileSpec& rec,
                                             const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  // Money ledgers, or quantity ledgers (both sides counted in base units).
  auto is_count = [](const SystemSpec& sys, const std::string& field) {
    int i = sys.field_index(field);
    return i >= 0 && (sys.fields[static_cast<size_t>(i)].kind == FieldKind::Quantity ||
                      sys.fields[static_cast<size_t>(i)].kind == FieldKind::Integer);
  };
  bool counts = is_count(left, rule.left_field) || is_count(right, rule.right_field);
  int la = -1;
  std::initializer_list<FieldKind> money = {FieldKind::Money}, quantity = {FieldKind::Integer, FieldKind::Quantity};
  la = field_of(left, rule.left_field, rule, "left", counts ? quantity : money);
  int ra = field_of(right, rule.right_field, rule, "right", counts ? quantity : money);
  int lt = field_of(left, rule.left_time, rule, "left time", {FieldKind::Time});
  int rt = field_of(right, rule.right_time, rule, "right time", {FieldKind::Time});
  int le = rule.left_entry.empty() ? -1 : field_of(left, rule.left_entry, rule, "left entry");
  int re = rule.right_entry.empty() ? -1 : field_of(right, rule.right_entry, rule, "right entry");
  auto window = maybe(rule.window_minutes, params, rule.loc);
  return std::make_unique<LedgerEqual>(rule, la, ra, lt, rt, le, re, maybe(rule.tolerance, params, rule.loc), counts,
                                       window ? minutes_us(*window) : -1,
                                       counts ? (!count_unit(left, la).empty() ? count_unit(left, la) : count_unit(right, ra))
                                              : std::string());
}

}  // namespace seam
