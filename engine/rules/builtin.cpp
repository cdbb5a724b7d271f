#include "engine/rules/builtin.hpp"

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <memory>
#include <map>
#include <new>
#include <optional>
#include <set>

#include "engine/rules/cardinality.hpp"
#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"
#include "engine/value/wide.hpp"  // percentage tolerances stay exact for any int64 amount

namespace seam {
namespace {

// An error verdict for a sum or difference of money or quantities that does not fit int64:
// wrapped, it would compare as some unrelated number and could pass. Names the records so
// a person can find the absurd value; `what` is e.g. "the sum of amount".
Verdict overflow_error(const std::string& what, const SideRef& s, const char* units = "minor units") {
  return Verdict::make(Outcome::Error, what + " over " + s.system + " " + ids_of(s) + " exceeds " +
                                           int64_range_text(units) + "; check these records' values",
                       "", "overflow");
}
Verdict overflow_error(const std::string& what, const SideRef& l, const SideRef& r, const char* units = "minor units") {
  return Verdict::make(Outcome::Error, what + " of " + l.system + " " + ids_of(l) + " and " + r.system + " " +
                                           ids_of(r) + " exceeds " + int64_range_text(units) +
                                           "; check these records' values",
                       "", "overflow");
}

std::string minutes_text(int64_t us) {
  int64_t m = std::llabs(us) / kMicrosPerMinute;
  int64_t s = (std::llabs(us) / kMicrosPerSecond) % 60;
  return std::to_string(m) + " min" + (s ? " " + std::to_string(s) + " s" : "");
}

int field_of(const SystemSpec& sys, const std::string& field, const RuleSpec& rule, const char* role,
             std::initializer_list<FieldKind> kinds = {}) {
  int i = sys.field_index(field);
  if (i < 0)
    throw UserError(rule.loc.str() + ": rule '" + rule.name + "' reads " + role + " field '" + field + "', " +
                    sys.not_declared(field));
  const FieldSpec& f = sys.fields[static_cast<size_t>(i)];
  if (kinds.size() && f.kind != FieldKind::Lua) {
    bool ok = false;
    for (auto k : kinds) ok = ok || f.kind == k;
    if (!ok) {
      const char* want = *kinds.begin() == FieldKind::Money  ? "money { ... }"
                         : *kinds.begin() == FieldKind::Time ? "time { ... }"
                                                             : "integer { ... } or quantity { ... }";
      throw UserError(rule.loc.str() + ": rule '" + rule.name + "' needs field '" + field + "' of system '" +
                      sys.name + "' to be declared as " + want + " (declared at " + f.loc.str() + ")");
    }
  }
  return i;
}

// ---- exists_in -------------------------------------------------------------------------

class ExistsIn final : public CompiledRule {
 public:
  ExistsIn(const RuleSpec& r, int since, int64_t grace_us, int amount)
      : rule_(r), since_(since), grace_us_(grace_us), amount_(amount) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    Side other_side = rule_.side == Side::Left ? Side::Right : Side::Left;
    SideRef want = side_of(rule_.side, g, c), have = side_of(other_side, g, c);
    if (have.rows.empty()) return skip_no(have);  // nothing to look for
    if (!want.rows.empty()) return Verdict::pass();
    std::string subject = std::string(have.system) + " " + ids_of(have);
    if (since_ >= 0 && grace_us_ >= 0) {
      TimeUs latest = INT64_MIN;
      for (uint32_t r : have.rows) {
        const Value& t = have.rs->get(r, static_cast<size_t>(since_));
        if (t.kind == ValueKind::Time && t.i > latest) latest = t.i;
      }
      if (latest != INT64_MIN && c.as_of - latest < grace_us_) {
        return Verdict::make(Outcome::Pending,
                             "no " + std::string(want.system) + " record yet for " + subject + "; expected by " +
                                 format_time_iso(latest + grace_us_) + " (lag window " + minutes_text(grace_us_) + ")",
                             "1 " + std::string(want.system) + " record", "none yet");
      }
    }
    std::string message = "no " + std::string(want.system) + " record with key " + std::string(g.key) + " for " + subject;
    if (grace_us_ >= 0) message += ", past the " + minutes_text(grace_us_) + " lag window";
    if (const std::string* why = c.match->note_of(g)) message += "; " + *why;
    if (c.nearest) {
      std::string hint = c.nearest->describe(g);
      if (!hint.empty()) message += "; nearest " + std::string(want.system) + " candidate: " + hint;
    }
    std::string delta;
    if (amount_ >= 0) {
      int64_t total = 0;
      CurrencyCode cur = 0;
      bool ok = true;
      for (uint32_t r : have.rows) {
        const Value& v = have.rs->get(r, static_cast<size_t>(amount_));
        if (v.kind != ValueKind::Money || (cur && v.currency != cur)) ok = false;
        else {
          if (!checked_accumulate(total, v.i)) return overflow_error("the sum of the amounts", have);
          cur = v.currency;
        }
      }
      // delta is right minus left: money missing on the right counts negative.
      if (ok && cur && rule_.side == Side::Right && !checked_neg(total, total))
        return overflow_error("the amount at stake", have);
      if (ok && cur) delta = format_money(total, cur);
    }
    return Verdict::make(Outcome::Fail, message, "1 " + std::string(want.system) + " record", "none", delta);
  }

 private:
  const RuleSpec& rule_;
  int since_;
  int64_t grace_us_;
  int amount_;  // money field on the present side, for the amount at stake
};

// ---- amount_equal ----------------------------------------------------------------------

// What an amount or quantity rule compares: a summed side as one total, otherwise every
// record on its own, against every unit of the other side; in a paired group (pairing.hpp)
// with neither side summed, each best-fit pair only.
std::vector<std::pair<Rows, Rows>> comparisons(const SideRef& l, bool sum_left, const SideRef& r, bool sum_right,
                                               bool paired) {
  std::vector<std::pair<Rows, Rows>> out;
  if (paired && !sum_left && !sum_right) {
    for (size_t i = 0; i < l.rows.size() && i < r.rows.size(); ++i)
      out.emplace_back(l.rows.subspan(i, 1), r.rows.subspan(i, 1));
    return out;
  }
  auto units = [](const SideRef& s, bool sum) {
    std::vector<Rows> u;
    if (sum) u.push_back(s.rows);
    else
      for (size_t i = 0; i < s.rows.size(); ++i) u.push_back(s.rows.subspan(i, 1));
    return u;
  };
  for (Rows lr : units(l, sum_left))
    for (Rows rr : units(r, sum_right)) out.emplace_back(lr, rr);
  return out;
}

struct Total {
  int64_t minor = 0;
  CurrencyCode currency = 0;
  std::string problem;  // non-empty: cannot be compared
  bool overflow = false;  // the sum does not fit int64 (an error, not a difference)
};

Total total_of(const SideRef& s, Rows rows, int field) {
  Total t;
  for (uint32_t r : rows) {
    const Value& v = s.rs->get(r, static_cast<size_t>(field));
    if (v.kind != ValueKind::Money) {
      t.problem = std::string(s.system) + " " + std::string(s.rs->id(r)) + " has no amount (" + display(v) + ")";
      return t;
    }
    if (t.currency && v.currency != t.currency) {
      t.problem = std::string(s.system) + " records mix " + currency_name(t.currency) + " and " + currency_name(v.currency);
      return t;
    }
    t.currency = v.currency;
    if (!checked_accumulate(t.minor, v.i)) {
      t.overflow = true;
      return t;
    }
  }
  return t;
}

class AmountEqual final : public CompiledRule {
 public:
  AmountEqual(const RuleSpec& r, int lf, int rf, bool sum_left, bool sum_right, std::optional<Decimal> tol,
              std::optional<Decimal> pct)
      : rule_(r), lf_(lf), rf_(rf), sum_left_(sum_left), sum_right_(sum_right), tol_(tol), pct_(pct) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    if (l.rows.size() == 1 && r.rows.size() == 1) {  // the common case, without allocating
      const Value& a = c.left->get(l.rows[0], static_cast<size_t>(lf_));
      const Value& b = c.right->get(r.rows[0], static_cast<size_t>(rf_));
      int64_t d = 0;
      if (a.kind == ValueKind::Money && b.kind == ValueKind::Money && a.currency == b.currency &&
          checked_sub(b.i, a.i, d) && within_tolerance(d, a.i, b.i, a.currency))
        return Verdict::pass();
    }
    for (const auto& [lr, rr] : comparisons(l, sum_left_, r, sum_right_, c.match->is_paired(g))) {
      Total lt = total_of(l, lr, lf_);
      if (lt.overflow) return overflow_error("the sum of " + rule_.left_field, {l.rs, lr, l.system});
      if (!lt.problem.empty()) return Verdict::make(Outcome::Fail, lt.problem);
      {
        Total rt = total_of(r, rr, rf_);
        if (rt.overflow) return overflow_error("the sum of " + rule_.right_field, {r.rs, rr, r.system});
        if (!rt.problem.empty()) return Verdict::make(Outcome::Fail, rt.problem);
        if (lt.currency != rt.currency)
          return Verdict::make(Outcome::Fail,
                               std::string(r.system) + " amount is in " + currency_name(rt.currency) + ", " + l.system +
                                   " in " + currency_name(lt.currency),
                               format_money(lt.minor, lt.currency), format_money(rt.minor, rt.currency));
        int64_t delta = 0;
        if (!checked_sub(rt.minor, lt.minor, delta))
          return overflow_error("the difference (right - left) between the amounts", {l.rs, lr, l.system},
                                {r.rs, rr, r.system});
        if (within_tolerance(delta, lt.minor, rt.minor, lt.currency)) continue;
        // "erp CR-9012 amount 4.00 USD" or "erp total 160.00 USD (2 records)"
        auto describe = [](const SideRef& s, Rows rows, const Total& t) {
          std::string amount = format_money(t.minor, t.currency);
          if (rows.size() > 1)
            return std::string(s.system) + " total " + amount + " (" + std::to_string(rows.size()) + " records)";
          return std::string(s.system) + " " + std::string(s.rs->id(rows[0])) + " amount " + amount;
        };
        return Verdict::make(Outcome::Fail,
                             describe(r, rr, rt) + " differs from " + describe(l, lr, lt) + " by " +
                                 format_money(delta, lt.currency) + tolerance_text(),
                             format_money(lt.minor, lt.currency), format_money(rt.minor, rt.currency),
                             format_money(delta, lt.currency));
      }
    }
    return Verdict::pass();
  }

 private:
  bool within_tolerance(int64_t delta, int64_t left, int64_t right, CurrencyCode cur) const {
    // Magnitudes in 128 bits: |INT64_MIN| does not fit int64.
    auto magnitude = [](int64_t v) { return v < 0 ? -static_cast<Wide>(v) : static_cast<Wide>(v); };
    Wide abs_delta = magnitude(delta);
    int64_t abs_tol = tol_ ? tol_->to_scale(currency_scale(cur)) : 0;
    if (abs_delta <= abs_tol) return true;
    if (pct_) {
      Wide l = magnitude(left), r = magnitude(right);
      Wide base = rule_.tolerance_base == ToleranceBase::Right    ? r
                  : rule_.tolerance_base == ToleranceBase::Larger  ? std::max(l, r)
                  : rule_.tolerance_base == ToleranceBase::Smaller ? std::min(l, r)
                                                                   : l;
      // |delta| / base <= pct / 100, in integers: |delta| * 100 * 10^s <= pct_units * base
      Wide lhs = abs_delta * 100;
      for (int s = 0; s < pct_->scale; ++s) lhs *= 10;
      if (lhs <= static_cast<Wide>(pct_->units) * base) return true;
    }
    return false;
  }
  std::string tolerance_text() const {
    std::string t = " (tolerance " + (tol_ ? tol_->str() : std::string("0"));
    if (pct_) {
      t += " or " + pct_->str() + "%";
      if (rule_.tolerance_base != ToleranceBase::Left) t += std::string(" of the ") + tolerance_base_name(rule_.tolerance_base);
    }
    return t + ")";
  }

  const RuleSpec& rule_;
  int lf_, rf_;
  bool sum_left_, sum_right_;
  std::optional<Decimal> tol_, pct_;
};

// ---- quantity_equal --------------------------------------------------------------------

// Counts in base units (integer or quantity fields), summed on the many side.
class QuantityEqual final : public CompiledRule {
 public:
  QuantityEqual(const RuleSpec& r, int lf, int rf, bool sum_left, bool sum_right, int64_t tolerance)
      : rule_(r), lf_(lf), rf_(rf), sum_left_(sum_left), sum_right_(sum_right), tolerance_(tolerance) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    // Empty on success; `overflow` set when the sum does not fit int64.
    auto count = [](const SideRef& s, Rows rows, int field, int64_t& out, bool& overflow) -> std::string {
      out = 0;
      for (uint32_t row : rows) {
        const Value& v = s.rs->get(row, static_cast<size_t>(field));
        if (v.kind != ValueKind::Integer)
          return std::string(s.system) + " " + std::string(s.rs->id(row)) + " has no count (" + display(v) + ")";
        if (!checked_accumulate(out, v.i)) {
          overflow = true;
          return "overflow";
        }
      }
      return {};
    };
    auto describe = [](const SideRef& s, Rows rows, const std::string& field, int64_t n) {
      if (rows.size() > 1)
        return std::string(s.system) + " total " + field + " " + std::to_string(n) + " (" + std::to_string(rows.size()) +
               " records)";
      return std::string(s.system) + " " + std::string(s.rs->id(rows[0])) + " " + field + " " + std::to_string(n);
    };
    for (const auto& [lr, rr] : comparisons(l, sum_left_, r, sum_right_, c.match->is_paired(g))) {
      int64_t lc = 0, rc = 0;
      bool overflow = false;
      if (auto problem = count(l, lr, lf_, lc, overflow); !problem.empty())
        return overflow ? overflow_error("the sum of " + rule_.left_field, {l.rs, lr, l.system}, "base units")
                        : Verdict::make(Outcome::Fail, problem);
      {
        if (auto problem = count(r, rr, rf_, rc, overflow); !problem.empty())
          return overflow ? overflow_error("the sum of " + rule_.right_field, {r.rs, rr, r.system}, "base units")
                          : Verdict::make(Outcome::Fail, problem);
        int64_t delta = 0, abs_delta = 0;
        if (!checked_sub(rc, lc, delta) || !checked_abs(delta, abs_delta))
          return overflow_error("the difference (right - left) between the quantities", {l.rs, lr, l.system},
                                {r.rs, rr, r.system}, "base units");
        if (abs_delta <= tolerance_) continue;
        return Verdict::make(Outcome::Fail,
                             describe(r, rr, rule_.right_field, rc) + " differs from " +
                                 describe(l, lr, rule_.left_field, lc) + " by " + std::to_string(delta) +
                                 " (tolerance " + std::to_string(tolerance_) + ")",
                             std::to_string(lc), std::to_string(rc), std::to_string(delta));
      }
    }
    return Verdict::pass();
  }

 private:
  const RuleSpec& rule_;
  int lf_, rf_;
  bool sum_left_, sum_right_;
  int64_t tolerance_;
};

// ---- ledger_equal ----------------------------------------------------------------------

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
              int64_t window_us)
      : rule_(r), la_(la), ra_(ra), lt_(lt), rt_(rt), le_(le), re_(re), tol_(tol), counts_(counts), window_us_(window_us) {}

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
  std::string show(int64_t v, CurrencyCode cur) const { return counts_ ? std::to_string(v) : format_money(v, cur); }
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
        if (e.kind != ValueKind::Text || e.text.empty()) return who + " has no entry id (" + display(e) + ")";
        id = e.text;
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
  int64_t window_us_;
};

// ---- low_stock -------------------------------------------------------------------------

// Average daily sell-through = units sold in (as_of - days, as_of] / days. Low when
// available < factor x that average, compared in integers: available x days x 10^s <
// factor_units x sold.
class LowStock final : public CompiledRule {
 public:
  LowStock(const RuleSpec& r, int stock, int sold, int sold_at, int64_t days, Decimal factor)
      : rule_(r), stock_(stock), sold_(sold), sold_at_(sold_at), days_(days), factor_(factor) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    Side sales_side = rule_.side == Side::Left ? Side::Right : Side::Left;
    SideRef stock = side_of(rule_.side, g, c), sales = side_of(sales_side, g, c);
    if (stock.rows.empty()) return skip_no(stock);
    int64_t available = 0;
    for (uint32_t row : stock.rows) {
      const Value& v = stock.rs->get(row, static_cast<size_t>(stock_));
      if (v.kind != ValueKind::Integer)
        return Verdict::make(Outcome::Fail, std::string(stock.system) + " " + std::string(stock.rs->id(row)) +
                                                " has no stock count (" + display(v) + ")");
      if (!checked_accumulate(available, v.i)) return overflow_error("the sum of " + rule_.field, stock, "base units");
    }
    const TimeUs from = c.as_of - days_ * 24 * 60 * kMicrosPerMinute;
    int64_t sold = 0;
    for (uint32_t row : sales.rows) {
      const Value& q = sales.rs->get(row, static_cast<size_t>(sold_));
      const Value& t = sales.rs->get(row, static_cast<size_t>(sold_at_));
      if (q.kind == ValueKind::Integer && t.kind == ValueKind::Time && t.i > from && t.i <= c.as_of &&
          !checked_accumulate(sold, q.i))
        return overflow_error("the sum of " + rule_.sales_field, sales, "base units");
    }
    Wide lhs = static_cast<Wide>(available) * days_;
    for (int s = 0; s < factor_.scale; ++s) lhs *= 10;
    Wide rhs = static_cast<Wide>(factor_.units) * sold;
    if (lhs >= rhs) return Verdict::pass();
    std::string per_day = hundredths(static_cast<Wide>(sold) * 100 / days_);
    return Verdict::make(Outcome::Fail,
                         std::string(stock.system) + " " + rule_.field + " is " + std::to_string(available) +
                             ", under " + factor_.str() + " x the average daily sell-through of " + per_day + " (" +
                             std::to_string(sold) + " sold in the " + std::to_string(days_) + " days to " +
                             format_time_iso(c.as_of) + ")",
                         ">= " + hundredths(static_cast<Wide>(factor_.to_scale(2)) * sold / days_),
                         std::to_string(available));
  }

 private:
  static std::string hundredths(Wide v) {
    std::string sign = v < 0 ? "-" : "";
    if (v < 0) v = -v;
    auto whole = static_cast<int64_t>(v / 100), frac = static_cast<int64_t>(v % 100);
    return sign + std::to_string(whole) + "." + (frac < 10 ? "0" : "") + std::to_string(frac);
  }
  const RuleSpec& rule_;
  int stock_, sold_, sold_at_;
  int64_t days_;
  Decimal factor_;
};

// ---- value_map / equal -----------------------------------------------------------------

// How equal, value_map and value_in compare text: as it is, or trimmed and in one case.
std::string compared_text(std::string text, const RuleSpec& r) {
  if (r.trim) text = std::string(trim(text));
  if (r.ignore_case) text = to_lower(text);
  return text;
}

class FieldEqual final : public CompiledRule {
 public:
  FieldEqual(const RuleSpec& r, int lf, int rf) : rule_(r), lf_(lf), rf_(rf) {
    for (const auto& [k, v] : r.map) map_.emplace(compared_text(k, r), v);
  }

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    const bool mapped = rule_.kind == RuleKind::ValueMap;
    const bool normalized = rule_.trim || rule_.ignore_case;
    std::optional<Verdict> failed;
    each_pair(l, r, g, c, [&](uint32_t lr, uint32_t rr) {
      const Value& lv = c.left->get(lr, static_cast<size_t>(lf_));
      std::string expected = compared_text(key_text(lv), rule_);
      if (mapped) {
        auto it = map_.find(expected);
        if (it == map_.end()) {
          failed = Verdict::make(Outcome::Fail,
                                 std::string(l.system) + " " + rule_.left_field + " " + quote_for_message(expected) +
                                     " has no mapping to " + r.system + " (map covers: " + covered() + ")",
                                 "", display(lv));
          return false;
        }
        expected = it->second;
      }
      const Value& rv = c.right->get(rr, static_cast<size_t>(rf_));
      std::string actual = key_text(rv);
      if ((normalized ? compared_text(actual, rule_) == compared_text(expected, rule_) : actual == expected) &&
          rv.has_content() == !expected.empty())
        return true;
      std::string msg = std::string(r.system) + " " + std::string(c.right->id(rr)) + " " + rule_.right_field + " is " +
                        (rv.has_content() ? quote_for_message(actual) : display(rv)) + ", expected " +
                        quote_for_message(expected);
      if (mapped) msg += " for " + std::string(l.system) + " " + rule_.left_field + " " + quote_for_message(key_text(lv));
      failed = Verdict::make(Outcome::Fail, msg, expected, rv.has_content() ? actual : display(rv));
      return false;
    });
    if (failed) return std::move(*failed);
    return Verdict::pass();
  }

 private:
  std::string covered() const {
    std::string out;
    for (const auto& [k, v] : rule_.map) out += (out.empty() ? "" : ", ") + k;
    return out;
  }
  const RuleSpec& rule_;
  int lf_, rf_;
  std::map<std::string, std::string> map_;  // keys compared as the rule compares text
};

// ---- within ----------------------------------------------------------------------------

// The lag between two times, in µs or in calendar days in a zone, against a window with a
// minimum, a maximum and a direction; for each pair of records, or between the group's
// earliest or latest times.
struct LagWindow {
  int64_t min = 0, max = 0;  // µs, or days
  bool days = false;
  const date::time_zone* zone = nullptr;
  std::string zone_name;
  TimeDirection direction = TimeDirection::Either;
};

class Within final : public CompiledRule {
 public:
  Within(const RuleSpec& r, int lf, int rf, LagWindow w) : rule_(r), lf_(lf), rf_(rf), w_(std::move(w)) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    for (uint32_t lr : l.rows)
      if (c.left->get(lr, static_cast<size_t>(lf_)).kind != ValueKind::Time)
        return Verdict::make(Outcome::Fail, std::string(l.system) + " " + std::string(c.left->id(lr)) + " has no " +
                                                rule_.left_field + " (" + display(c.left->get(lr, static_cast<size_t>(lf_))) + ")");
    for (uint32_t rr : r.rows)
      if (c.right->get(rr, static_cast<size_t>(rf_)).kind != ValueKind::Time)
        return Verdict::make(Outcome::Fail, std::string(r.system) + " " + std::string(c.right->id(rr)) + " has no " +
                                                rule_.right_field + " (" + display(c.right->get(rr, static_cast<size_t>(rf_))) + ")");
    if (rule_.anchor != "each") {
      bool earliest = rule_.anchor == "earliest";
      auto pick = [&](const RecordSet& rs, Rows rows, int field) {
        uint32_t best = rows[0];
        for (uint32_t x : rows) {
          int64_t t = rs.get(x, static_cast<size_t>(field)).i, b = rs.get(best, static_cast<size_t>(field)).i;
          if (earliest ? t < b : t > b) best = x;
        }
        return best;
      };
      return judge(l, r, pick(*c.left, l.rows, lf_), pick(*c.right, r.rows, rf_), c);
    }
    Verdict v;
    each_pair(l, r, g, c, [&](uint32_t lr, uint32_t rr) {
      v = judge(l, r, lr, rr, c);
      return v.outcome == Outcome::Pass;
    });
    return v;
  }

 private:
  std::string amount_text(int64_t v) const {
    if (!w_.days) return minutes_text(v);
    uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    return std::to_string(a) + (a == 1 ? " day" : " days");
  }
  Verdict judge(const SideRef& l, const SideRef& r, uint32_t lr, uint32_t rr, const RuleContext& c) const {
    int64_t lt = c.left->get(lr, static_cast<size_t>(lf_)).i, rt = c.right->get(rr, static_cast<size_t>(rf_)).i;
    int64_t lag = 0;  // right - left
    if (w_.days) lag = day_number_in(rt, w_.zone) - day_number_in(lt, w_.zone);
    else if (__builtin_sub_overflow(rt, lt, &lag)) lag = rt > lt ? INT64_MAX : INT64_MIN;
    int64_t measured = w_.direction == TimeDirection::RightBefore ? (lag == INT64_MIN ? INT64_MAX : -lag)
                       : w_.direction == TimeDirection::Either    ? (lag == INT64_MIN ? INT64_MAX : std::llabs(lag))
                                                                  : lag;
    if (measured >= w_.min && measured <= w_.max) return Verdict::pass();
    std::string unit = w_.days ? " (calendar days in " + (w_.zone_name.empty() ? std::string("UTC") : w_.zone_name) + ")" : "";
    std::string what = std::string(r.system) + " " + std::string(c.right->id(rr)) + " " + rule_.right_field + " " +
                       format_time_iso(rt) + " is " + (lag == 0 ? "at the same " + std::string(w_.days ? "day" : "time") + " as "
                                                                 : amount_text(lag) + (lag > 0 ? " after " : " before ")) +
                       l.system + " " + rule_.left_field + " " + format_time_iso(lt);
    std::string actual = (lag < 0 ? "-" : "") + amount_text(lag);
    if (measured < 0)  // the wrong direction
      return Verdict::make(Outcome::Fail,
                           what + " (expected " + (w_.direction == TimeDirection::RightAfter ? "after" : "before") +
                               ", within " + amount_text(w_.max) + ")" + unit,
                           std::string(w_.direction == TimeDirection::RightAfter ? "after" : "before") + ", <= " +
                               amount_text(w_.max),
                           actual);
    if (measured < w_.min)
      return Verdict::make(Outcome::Fail, what + " (at least " + amount_text(w_.min) + ")" + unit,
                           ">= " + amount_text(w_.min), actual,
                           (lag < 0 ? "-" : "") + amount_text(w_.min - measured));
    return Verdict::make(Outcome::Fail, what + " (limit " + amount_text(w_.max) + ")" + unit, "<= " + amount_text(w_.max),
                         actual, (lag < 0 ? "-" : "") + amount_text(measured - w_.max));
  }

  const RuleSpec& rule_;
  int lf_, rf_;
  LagWindow w_;
};

// ---- value_in / value_not_in -----------------------------------------------------------

// One side's value is (not) one of a declared set: a NetSuite refund whose status is
// Voided is no booking. A failure carries the record's money at stake, as exists_in does.
class ValueIn final : public CompiledRule {
 public:
  ValueIn(const RuleSpec& r, int field, int amount) : rule_(r), field_(field), amount_(amount) {
    for (const auto& v : r.values) values_.insert(compared_text(v, r));
  }

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef s = side_of(rule_.side, g, c);
    if (s.rows.empty()) return skip_no(s);
    const bool want_in = rule_.kind == RuleKind::ValueIn;
    for (uint32_t r : s.rows) {
      const Value& v = s.rs->get(r, static_cast<size_t>(field_));
      bool in = v.has_content() && values_.count(compared_text(key_text(v), rule_));
      if (in == want_in) continue;
      std::string delta;
      if (amount_ >= 0) {
        const Value& m = s.rs->get(r, static_cast<size_t>(amount_));
        int64_t at_stake = m.i;
        // delta is right minus left: a right record that does not count is money missing there.
        if (m.kind == ValueKind::Money && (rule_.side == Side::Left || checked_neg(m.i, at_stake)))
          delta = format_money(at_stake, m.currency);
      }
      return Verdict::make(Outcome::Fail,
                           std::string(s.system) + " " + std::string(s.rs->id(r)) + " " + rule_.field + " is " +
                               (v.has_content() ? quote_for_message(key_text(v)) : display(v)) +
                               (want_in ? ", not one of " : ", one of ") + listed(),
                           (want_in ? "one of " : "none of ") + listed(),
                           v.has_content() ? key_text(v) : display(v), delta);
    }
    return Verdict::pass();
  }

 private:
  std::string listed() const {
    std::string out;
    for (const auto& v : rule_.values) out += (out.empty() ? "" : ", ") + quote_for_message(v);
    return out;
  }
  const RuleSpec& rule_;
  int field_, amount_;
  std::set<std::string> values_;
};

// ---- unique ----------------------------------------------------------------------------

class Unique final : public CompiledRule {
 public:
  // `is_key`: the fields are the side's match key, so every record sharing the value is
  // already in this group and the group's own count answers the question, whatever the scope.
  Unique(const RuleSpec& r, std::vector<int> fields, bool is_key, int time_field, std::string field_names)
      : rule_(r), fields_(std::move(fields)), is_key_(is_key), time_field_(time_field), names_(std::move(field_names)) {}

  void prepare(const RuleContext& c) override {
    if (is_key_ || !rule_.system_scope) return;
    // Count every value once with views into the records (no copy per record); only
    // values held more than once get their holders listed, for the message.
    const RecordSet* rs = rule_.side == Side::Left ? c.left : c.right;
    std::unordered_map<std::string_view, uint32_t> counts;
    counts.reserve(rs->size());
    std::string scratch;
    auto stored = [&](uint32_t i) -> std::optional<std::string_view> {
      auto key = value_of(*rs, i, scratch);
      if (key && key->data() == scratch.data()) key = arena_.store(*key);  // non-text values: keep their text
      return key;
    };
    std::vector<std::optional<std::string_view>> keys(rs->size());
    for (uint32_t i = 0; i < rs->size(); ++i)
      if ((keys[i] = stored(i))) ++counts[*keys[i]];
    for (uint32_t i = 0; i < rs->size(); ++i)
      if (keys[i] && counts[*keys[i]] > 1) duplicates_[*keys[i]].push_back(i);
  }

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef s = side_of(rule_.side, g, c);
    if (s.rows.empty()) return skip_no(s);
    if (is_key_) return s.rows.size() > 1 ? duplicated(s, g.key, s.rows) : Verdict::pass();
    std::string scratch;
    if (rule_.system_scope) {
      for (uint32_t r : s.rows) {
        auto key = value_of(*s.rs, r, scratch);
        if (!key) continue;
        auto it = duplicates_.find(*key);
        if (it != duplicates_.end()) return duplicated(s, *key, it->second);
      }
      return Verdict::pass();
    }
    if (s.rows.size() < 2) return Verdict::pass();
    // Within the group: the first value held twice, in the group's record order.
    std::vector<std::pair<std::string, uint32_t>> seen;
    for (uint32_t r : s.rows) {
      auto key = value_of(*s.rs, r, scratch);
      if (!key) continue;
      seen.emplace_back(std::string(*key), r);
    }
    for (size_t i = 0; i < seen.size(); ++i) {
      std::vector<uint32_t> holders;
      for (size_t j = i; j < seen.size(); ++j)
        if (seen[j].first == seen[i].first) holders.push_back(seen[j].second);
      if (holders.size() > 1) return duplicated(s, seen[i].first, holders);
    }
    return Verdict::pass();
  }

 private:
  // The value the rule compares: one field's text, or several joined with " | "; nullopt
  // when a field is empty or missing (no value, so no duplicate).
  std::optional<std::string_view> value_of(const RecordSet& rs, uint32_t rec, std::string& scratch) const {
    if (fields_.size() == 1) {
      const Value& v = rs.get(rec, static_cast<size_t>(fields_[0]));
      if (!v.has_content()) return std::nullopt;
      if (v.kind == ValueKind::Text) return v.text;
      scratch = key_text(v);
      return std::string_view(scratch);
    }
    scratch.clear();
    for (size_t i = 0; i < fields_.size(); ++i) {
      const Value& v = rs.get(rec, static_cast<size_t>(fields_[i]));
      if (!v.has_content()) return std::nullopt;
      if (i) scratch += " | ";
      scratch += key_text(v);
    }
    return std::string_view(scratch);
  }
  // "external_ref 'R1005' appears 2 times in erp: CR-9005, CR-9006; CR-9006 (erp.ndjson:6)
  // repeats CR-9005 (erp.ndjson:5)": the duplicate is the later record, by record time, then line.
  Verdict duplicated(const SideRef& s, std::string_view value, std::span<const uint32_t> holders) const {
    // In input order: a paired group (pairing.hpp) holds its records pair by pair.
    std::vector<uint32_t> order(holders.begin(), holders.end());
    std::sort(order.begin(), order.end());
    std::string ids;
    for (size_t i = 0; i < order.size() && i < 10; ++i) ids += (i ? ", " : "") + std::string(s.rs->id(order[i]));
    if (order.size() > 10) ids += ", ... (" + std::to_string(order.size()) + " in all)";
    auto time_of = [&](uint32_t r) {
      if (time_field_ < 0) return int64_t{0};
      const Value& v = s.rs->get(r, static_cast<size_t>(time_field_));
      return v.kind == ValueKind::Time ? v.i : INT64_MAX;
    };
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (time_of(a) != time_of(b)) return time_of(a) < time_of(b);
      return s.rs->line(a) < s.rs->line(b);
    });
    auto where = [&](uint32_t r) { return record_where(*s.rs, r); };
    std::string which = where(order[1]) + " repeats " + where(order[0]);
    if (order.size() > 2) which += ", and " + std::to_string(order.size() - 2) + " more";
    return Verdict::make(Outcome::Fail,
                         names_ + " " + quote_for_message(value) + " appears " + std::to_string(holders.size()) +
                             " times in " + s.system + (rule_.system_scope || is_key_ ? "" : " in this group") + ": " +
                             ids + "; " + which,
                         "1 record", std::to_string(holders.size()) + " records");
  }

  const RuleSpec& rule_;
  std::vector<int> fields_;
  bool is_key_;
  int time_field_;  // the side's record_time field, -1 when none
  std::string names_;
  StringArena arena_;
  std::unordered_map<std::string_view, std::vector<uint32_t>> duplicates_;
};

// ---- present ---------------------------------------------------------------------------

class Present final : public CompiledRule {
 public:
  Present(const RuleSpec& r, int field) : rule_(r), field_(field) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef s = side_of(rule_.side, g, c);
    if (s.rows.empty()) return skip_no(s);
    for (uint32_t r : s.rows) {
      const Value& v = s.rs->get(r, static_cast<size_t>(field_));
      if (v.has_content()) continue;
      return Verdict::make(Outcome::Fail,
                           std::string(s.system) + " " + std::string(s.rs->id(r)) + " has no " + rule_.field + " (" +
                               (v.is_missing() ? "missing" : "empty") + ")",
                           "a value", v.is_missing() ? "missing" : "empty");
    }
    return Verdict::pass();
  }

 private:
  const RuleSpec& rule_;
  int field_;
};

// ---- lua -------------------------------------------------------------------------------

class LuaRule final : public CompiledRule {
 public:
  explicit LuaRule(const RuleSpec& r) : rule_(r) {}
  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    GroupView view{c.reconcile, g.key, c.left, c.match->left_of(g), c.right, c.match->right_of(g)};
    return c.host->run_rule(rule_.lua_fn, view);
  }

 private:
  const RuleSpec& rule_;
};

std::optional<Decimal> maybe(const NumberRef& ref, const ParamValues& params, const SourceLoc& loc) {
  if (!ref.set) return std::nullopt;
  return params.number(ref, loc);
}

int64_t minutes_us(const Decimal& d) {
  return d.to_scale(6) * kMicrosPerMinute / 1'000'000;
}

}  // namespace

// Built where it is kept: assigning the returned Verdict moved its four strings and
// destroyed a temporary, six million times at a million groups.
void evaluate_rule(const CompiledRule& rule, const MatchGroup& g, const RuleContext& ctx, Verdict& out) {
  std::destroy_at(&out);
  try {
    ::new (static_cast<void*>(&out)) Verdict(rule.evaluate(g, ctx));  // C++17: no temporary
    return;
  } catch (const std::exception& e) {
    ::new (static_cast<void*>(&out)) Verdict();  // noexcept: an object again before anything else can throw
    out = Verdict::make(Outcome::Error, std::string("rule failed: ") + e.what());
  } catch (...) {
    ::new (static_cast<void*>(&out)) Verdict();
    throw;
  }
}

std::unique_ptr<CompiledRule> compile_rule(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left,
                                           const SystemSpec& right, const ParamValues& params) {
  switch (rule.kind) {
    case RuleKind::ExistsIn: {
      const SystemSpec& present = rule.side == Side::Left ? right : left;
      int since = rule.since_field.empty() ? -1 : field_of(present, rule.since_field, rule, "since", {FieldKind::Time});
      auto grace = maybe(rule.grace_minutes, params, rule.loc);
      if (grace && since < 0)
        throw UserError(rule.loc.str() + ": rule '" + rule.name + "' has grace_minutes but no since field (the " +
                        present.name + " time the lag window starts from)");
      int amount = -1;
      for (const auto& other : rec.rules)
        if (other.kind == RuleKind::AmountEqual)
          amount = present.field_index(rule.side == Side::Left ? other.right_field : other.left_field);
      // Else the money the system declares it moves: a missing counterpart still has a stake.
      if (amount < 0 && !present.amount_field.empty()) amount = present.field_index(present.amount_field);
      return std::make_unique<ExistsIn>(rule, since,
                                        grace ? minutes_us(*grace) : -1, amount);
    }
    case RuleKind::AmountEqual: {
      int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Money});
      int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Money});
      auto tolerance = maybe(rule.tolerance, params, rule.loc);
      auto tolerance_pct = maybe(rule.tolerance_pct, params, rule.loc);
      return std::make_unique<AmountEqual>(rule, lf, rf, rule.sum_left.value_or(rec.left_many()),
                                           rule.sum_right.value_or(rec.right_many()), tolerance, tolerance_pct);
    }
    case RuleKind::QuantityEqual: {
      int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Integer, FieldKind::Quantity});
      int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Integer, FieldKind::Quantity});
      auto tolerance = maybe(rule.tolerance, params, rule.loc);
      if (tolerance && Decimal{tolerance->to_scale(0), 0}.to_scale(tolerance->scale) != tolerance->units)
        throw UserError(rule.loc.str() + ": rule '" + rule.name + "' tolerance must be a whole number of units, found " +
                        tolerance->str());
      return std::make_unique<QuantityEqual>(rule, lf, rf, rule.sum_left.value_or(rec.left_many()),
                                             rule.sum_right.value_or(rec.right_many()),
                                             tolerance ? tolerance->to_scale(0) : 0);
    }
    case RuleKind::LedgerEqual: {
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
                                           window ? minutes_us(*window) : -1);
    }
    case RuleKind::LowStock: {
      const SystemSpec& stock = rule.side == Side::Left ? left : right;
      const SystemSpec& sales = rule.side == Side::Left ? right : left;
      int st = field_of(stock, rule.field, rule, "stock", {FieldKind::Integer, FieldKind::Quantity});
      int sold = field_of(sales, rule.sales_field, rule, "sales", {FieldKind::Integer, FieldKind::Quantity});
      int at = field_of(sales, rule.sales_time, rule, "sold_at", {FieldKind::Time});
      auto days = maybe(rule.days, params, rule.loc);
      if (!days || days->to_scale(0) < 1 || Decimal{days->to_scale(0), 0}.to_scale(days->scale) != days->units)
        throw UserError(rule.loc.str() + ": rule '" + rule.name + "' days must be a whole number of at least 1");
      auto factor = maybe(rule.factor, params, rule.loc);
      return std::make_unique<LowStock>(rule, st, sold, at, days->to_scale(0), factor ? *factor : Decimal{2, 0});
    }
    case RuleKind::ValueMap:
    case RuleKind::Equal: {
      // Resolved one after the other so errors name the left side first.
      int lf = field_of(left, rule.left_field, rule, "left");
      int rf = field_of(right, rule.right_field, rule, "right");
      return std::make_unique<FieldEqual>(rule, lf, rf);
    }
    case RuleKind::Within: {
      int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Time});
      int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Time});
      LagWindow w;
      w.direction = rule.direction;
      if (rule.days.set) {
        auto whole_days = [&](const NumberRef& ref, const char* what) {
          Decimal d = params.number(ref, rule.loc);
          if (Decimal{d.to_scale(0), 0}.to_scale(d.scale) != d.units || d.units < 0)
            throw UserError(rule.loc.str() + ": rule '" + rule.name + "' " + what +
                            " counts calendar days: a whole number of at least 0, found " + d.str());
          return d.to_scale(0);
        };
        w.days = true;
        w.max = whole_days(rule.days, "days");
        w.min = rule.min_days.set ? whole_days(rule.min_days, "min_days") : 0;
        auto zone = find_zone(rule.zone);
        if (!zone) throw UserError(rule.loc.str() + ": rule '" + rule.name + "': " + zone.error());
        w.zone = *zone;
        w.zone_name = rule.zone;
      } else {
        auto minutes = maybe(rule.minutes, params, rule.loc);
        if (!minutes) throw UserError(rule.loc.str() + ": rule '" + rule.name + "' needs minutes = N");
        w.max = minutes_us(*minutes);
        if (auto min = maybe(rule.min_minutes, params, rule.loc)) w.min = minutes_us(*min);
      }
      if (w.min > w.max)
        throw UserError(rule.loc.str() + ": rule '" + rule.name + "' has a minimum lag above its maximum");
      return std::make_unique<Within>(rule, lf, rf, std::move(w));
    }
    case RuleKind::ValueIn:
    case RuleKind::ValueNotIn: {
      const SystemSpec& sys = rule.side == Side::Left ? left : right;
      int field = field_of(sys, rule.field, rule, "its");
      int amount = sys.amount_field.empty() ? -1 : sys.field_index(sys.amount_field);
      for (const auto& other : rec.rules)  // else the money amount_equal compares
        if (amount < 0 && other.kind == RuleKind::AmountEqual)
          amount = sys.field_index(rule.side == Side::Left ? other.left_field : other.right_field);
      return std::make_unique<ValueIn>(rule, field, amount);
    }
    case RuleKind::Unique: {
      const auto& key = rule.side == Side::Left ? rec.left_key : rec.right_key;
      const SystemSpec& sys = rule.side == Side::Left ? left : right;
      std::vector<std::string> names = rule.fields.empty() ? std::vector<std::string>{rule.field} : rule.fields;
      std::vector<int> fields;
      std::string joined;
      for (const auto& f : names) {
        fields.push_back(field_of(sys, f, rule, "its"));
        joined += (joined.empty() ? "" : "+") + f;
      }
      // The match key, when the reconciliation has one strategy: every record of the key is in the group.
      bool is_key = names == key && rec.strategies.size() <= 1;
      int time_field = sys.record_time_field.empty() ? -1 : sys.field_index(sys.record_time_field);
      return std::make_unique<Unique>(rule, std::move(fields), is_key, time_field, joined);
    }
    case RuleKind::Present:
      return std::make_unique<Present>(rule, field_of(rule.side == Side::Left ? left : right, rule.field, rule, "its"));
    case RuleKind::Cardinality: return compile_cardinality(rule);
    case RuleKind::Lua: return std::make_unique<LuaRule>(rule);
  }
  throw UserError(rule.loc.str() + ": unknown rule kind");
}

NearestFields nearest_fields(const ReconcileSpec& rec, const SystemSpec& left, const SystemSpec& right,
                             const ParamValues& params) {
  NearestFields f;
  for (const auto& r : rec.rules) {
    if (r.kind == RuleKind::AmountEqual && f.left_amount < 0) {
      f.left_amount = left.field_index(r.left_field);
      f.right_amount = right.field_index(r.right_field);
    }
    if (r.kind == RuleKind::Within && f.left_time < 0) {
      f.left_time = left.field_index(r.left_field);
      f.right_time = right.field_index(r.right_field);
    }
  }
  return f;
}

std::string ids_of(const SideRef& s) {
  std::string out;
  for (size_t i = 0; i < s.rows.size() && i < 5; ++i) {
    if (i) out += ", ";
    out += s.rs->id(s.rows[i]);
  }
  if (s.rows.size() > 5) out += ", ... (" + std::to_string(s.rows.size()) + " in all)";
  return out;
}

std::string record_where(const RecordSet& rs, uint32_t rec) {
  const std::string file = std::filesystem::path(rs.system().source.path).filename().string();
  return std::string(rs.id(rec)) + " (" + (file.empty() ? "line " : file + ":") + std::to_string(rs.line(rec)) + ")";
}

}  // namespace seam
