// low_stock: stock on one side against the recent sales on the other.
#include "engine/rules/families.hpp"

#include <algorithm>

#include "engine/rules/rule_support.hpp"
#include "engine/value/wide.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

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

}  // namespace

std::unique_ptr<CompiledRule> compile_low_stock(const RuleSpec& rule, const ReconcileSpec& rec,
                                                const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
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

}  // namespace seam
