// equal, value_map, value_in and value_not_in: text compared as it is, trimmed or in one case.
#include "engine/rules/families.hpp"

#include <map>
#include <set>

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

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

}  // namespace

std::unique_ptr<CompiledRule> compile_field_equal(const RuleSpec& rule, const ReconcileSpec& rec,
                                                  const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  // Resolved one after the other so errors name the left side first.
  int lf = field_of(left, rule.left_field, rule, "left");
  int rf = field_of(right, rule.right_field, rule, "right");
  return std::make_unique<FieldEqual>(rule, lf, rf);
}

std::unique_ptr<CompiledRule> compile_value_in(const RuleSpec& rule, const ReconcileSpec& rec,
                                               const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  const SystemSpec& sys = rule.side == Side::Left ? left : right;
  int field = field_of(sys, rule.field, rule, "its");
  int amount = sys.amount_field.empty() ? -1 : sys.field_index(sys.amount_field);
  for (const auto& other : rec.rules)  // else the money amount_equal compares
    if (amount < 0 && other.kind == RuleKind::AmountEqual)
      amount = sys.field_index(rule.side == Side::Left ? other.left_field : other.right_field);
  return std::make_unique<ValueIn>(rule, field, amount);
}

}  // namespace seam
