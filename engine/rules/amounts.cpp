// amount_equal and quantity_equal: money or counts equal within a tolerance, the many side
// of the cardinality summed, checked arithmetic throughout.
#include "engine/rules/families.hpp"

#include "engine/value/wide.hpp"  // percentage tolerances stay exact for any int64 amount

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

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
  QuantityEqual(const RuleSpec& r, int lf, int rf, bool sum_left, bool sum_right, int64_t tolerance, std::string unit)
      : rule_(r), lf_(lf), rf_(rf), sum_left_(sum_left), sum_right_(sum_right), tolerance_(tolerance),
        unit_(std::move(unit)) {}

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
    auto describe = [&](const SideRef& s, Rows rows, const std::string& field, int64_t n) {
      if (rows.size() > 1)
        return std::string(s.system) + " total " + field + " " + count_text(n, unit_) + " (" +
               std::to_string(rows.size()) + " records)";
      return std::string(s.system) + " " + std::string(s.rs->id(rows[0])) + " " + field + " " + count_text(n, unit_);
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
                                 describe(l, lr, rule_.left_field, lc) + " by " + count_text(delta, unit_) +
                                 " (tolerance " + count_text(tolerance_, unit_) + ")",
                             count_text(lc, unit_), count_text(rc, unit_), count_text(delta, unit_));
      }
    }
    return Verdict::pass();
  }

 private:
  const RuleSpec& rule_;
  int lf_, rf_;
  bool sum_left_, sum_right_;
  int64_t tolerance_;
  std::string unit_;  // the base unit counts are in, when the fields are quantities
};

}  // namespace

std::unique_ptr<CompiledRule> compile_amount_equal(const RuleSpec& rule, const ReconcileSpec& rec,
                                                   const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Money});
  int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Money});
  auto tolerance = maybe(rule.tolerance, params, rule.loc);
  auto tolerance_pct = maybe(rule.tolerance_pct, params, rule.loc);
  return std::make_unique<AmountEqual>(rule, lf, rf, rule.sum_left.value_or(rec.left_many()),
                                       rule.sum_right.value_or(rec.right_many()), tolerance, tolerance_pct);
}

std::unique_ptr<CompiledRule> compile_quantity_equal(const RuleSpec& rule, const ReconcileSpec& rec,
                                                     const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Integer, FieldKind::Quantity});
  int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Integer, FieldKind::Quantity});
  auto tolerance = maybe(rule.tolerance, params, rule.loc);
  if (tolerance && Decimal{tolerance->to_scale(0), 0}.to_scale(tolerance->scale) != tolerance->units)
    throw UserError(rule.loc.str() + ": rule '" + rule.name + "' tolerance must be a whole number of units, found " +
                    tolerance->str());
  return std::make_unique<QuantityEqual>(rule, lf, rf, rule.sum_left.value_or(rec.left_many()),
                                         rule.sum_right.value_or(rec.right_many()),
                                         tolerance ? tolerance->to_scale(0) : 0,
                                         !count_unit(left, lf).empty() ? count_unit(left, lf) : count_unit(right, rf));
}

}  // namespace seam
