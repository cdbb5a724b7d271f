// exists_in: a record of one side with no counterpart on the other, pending inside a lag
// window, with the money at stake.
#include "engine/rules/families.hpp"

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

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

}  // namespace

std::unique_ptr<CompiledRule> compile_exists_in(const RuleSpec& rule, const ReconcileSpec& rec,
                                                const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
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

}  // namespace seam
