#include "engine/run/causes.hpp"

#include <algorithm>

#include "engine/util/result.hpp"
#include "engine/value/value.hpp"

namespace seam {
namespace {

bool sor_on_right(const ReconcileSpec& r) { return r.system_of_record == r.right && r.right != r.left; }

std::string via_text(const CauseSpec& cause) { return (cause.via_side.empty() ? "" : cause.via_side + ".") + cause.via; }

// Whether a failure of `rule` can have a stake (engine/audit/causes.hpp): a delta its kind
// reports in money or base units, else both sides' amounts, which the systems' `amount`
// fields or an amount_equal rule of the reconciliation name.
bool can_have_stake(const StackSpec& spec, const ReconcileSpec& rec, const RuleSpec& rule) {
  switch (rule.kind) {
    case RuleKind::AmountEqual:
    case RuleKind::QuantityEqual:
    case RuleKind::LedgerEqual:
    case RuleKind::Lua: return true;
    default: break;
  }
  bool compares_amounts = std::any_of(rec.rules.begin(), rec.rules.end(),
                                      [](const RuleSpec& r) { return r.kind == RuleKind::AmountEqual; });
  const SystemSpec* left = spec.find_system(rec.left);
  const SystemSpec* right = spec.find_system(rec.right);
  return compares_amounts || (left && right && !left->amount_field.empty() && !right->amount_field.empty());
}

}  // namespace

std::vector<Warning> lint_causes(const StackSpec& spec) {
  std::vector<Warning> out;
  for (const auto& rec : spec.reconciles)
    for (const auto& rule : rec.rules)
      for (const CauseSpec& declared : rule.causes) {
        std::string expects = cause_expectation(spec, rec, declared);
        if (expects == "any") continue;
        auto cause_rec = std::find_if(spec.reconciles.begin(), spec.reconciles.end(),
                                      [&](const ReconcileSpec& c) { return c.name == declared.reconcile; });
        if (cause_rec == spec.reconciles.end()) continue;
        // Without a named rule, the cause is whichever of its rules fails: silent only when all are.
        const RuleSpec* cause = nullptr;
        for (const auto& c : cause_rec->rules)
          if (declared.rule.empty() ? can_have_stake(spec, *cause_rec, c) || &c == &cause_rec->rules.back()
                                    : c.name == declared.rule) {
            cause = &c;
            break;
          }
        if (!cause) continue;
        const RuleSpec* silent = !can_have_stake(spec, rec, rule)           ? &rule
                                 : !can_have_stake(spec, *cause_rec, *cause) ? cause
                                                                             : nullptr;
        if (!silent) continue;
        const std::string cause_text = declared.rule.empty() ? "any rule" : "rule '" + cause->name + "'";
        out.push_back({rule.loc, "rule '" + rule.name + "' is caused_by " + cause_text + " of reconcile '" +
                                     cause_rec->name + "' with explains = " + expects + ", but rule '" + silent->name +
                                     "' fails with no amount (it is " + rule_kind_name(silent->kind) +
                                     " and its systems declare no amount field): no cause will be linked; "
                                     "declare amount = \"FIELD\" on its systems, or explains = \"any\""});
      }
  return out;
}

void validate_cause(const StackSpec& spec, const ReconcileSpec& rec, const RuleSpec& rule, const SystemSpec& left,
                    const SystemSpec& right) {
  for (const CauseSpec& declared : rule.causes) {
    auto cause = std::find_if(spec.reconciles.begin(), spec.reconciles.end(),
                              [&](const ReconcileSpec& c) { return c.name == declared.reconcile; });
    if (cause == spec.reconciles.end())
      throw UserError(rule.loc.str() + ": rule '" + rule.name + "' is caused_by reconcile '" + declared.reconcile +
                      "', which is not declared");
    if (!declared.rule.empty() && std::none_of(cause->rules.begin(), cause->rules.end(),
                                               [&](const RuleSpec& c) { return c.name == declared.rule; })) {
      std::string names;
      for (const auto& c : cause->rules) names += (names.empty() ? "" : ", ") + c.name;
      throw UserError(rule.loc.str() + ": rule '" + rule.name + "' is caused_by rule '" + declared.rule +
                      "' of reconcile '" + cause->name + "', which has no such rule (rules: " + names + ")");
    }
    if (declared.via.empty()) continue;
    const std::string& field = declared.via;
    const std::string head =
        rule.loc.str() + ": rule '" + rule.name + "' is caused_by via '" + via_text(declared) + "', ";
    const std::string why = " (via names a field of reconcile '" + rec.name + "' holding the key of reconcile '" +
                            cause->name + "')";
    if (declared.via_side == "left" && left.field_index(field) < 0) throw UserError(head + left.not_declared(field) + why);
    if (declared.via_side == "right" && right.field_index(field) < 0)
      throw UserError(head + right.not_declared(field) + why);
    if (declared.via_side.empty() && left.field_index(field) < 0 && right.field_index(field) < 0)
      throw UserError(head + "which neither system '" + left.name + "' nor system '" + right.name +
                      "' declares (via names a field of reconcile '" + rec.name + "' holding the key of reconcile '" +
                      cause->name + "'; write left.FIELD or right.FIELD to read one side)");
    if (cause->left_key.size() > 1)
      throw UserError(head + "but reconcile '" + cause->name + "' matches on " +
                      std::to_string(cause->left_key.size()) + " fields: one field cannot hold its key");
  }
}

std::string cause_expectation(const StackSpec& spec, const ReconcileSpec& rec, const CauseSpec& cause) {
  if (!cause.explains.empty()) return cause.explains;
  for (const auto& c : spec.reconciles)
    if (c.name == cause.reconcile) return sor_on_right(c) == sor_on_right(rec) ? "same_sign" : "opposite_sign";
  return "same_sign";
}

CauseKeys::CauseKeys(const CauseSpec& cause, const SystemSpec& left, const SystemSpec& right)
    : via_(!cause.via.empty()) {
  if (!via_) return;
  if (cause.via_side != "right") left_ = left.field_index(cause.via);
  if (cause.via_side != "left") right_ = right.field_index(cause.via);
}

std::vector<std::string> CauseKeys::of(const MatchGroup& g, const MatchResult& m, const RecordSet& left,
                                       const RecordSet& right) const {
  std::vector<std::string> keys;
  if (!via_) {
    keys.emplace_back(g.key);
    return keys;
  }
  auto add = [&](const RecordSet& rs, std::span<const uint32_t> rows, int field) {
    if (field < 0) return;
    for (uint32_t r : rows) {
      const Value& v = rs.get(r, static_cast<size_t>(field));
      if (!v.has_content()) continue;
      std::string k = v.kind == ValueKind::Text ? std::string(v.text()) : key_text(v);
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    }
  };
  add(left, m.left_of(g), left_);
  add(right, m.right_of(g), right_);
  return keys;
}

}  // namespace seam
