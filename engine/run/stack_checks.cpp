#include "engine/run/stack_checks.hpp"

#include "engine/util/regex.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

std::string threshold_text(const NumberRef& ref, const Decimal& value) {
  return value.str() + (ref.param.empty() ? "" : " (param '" + ref.param + "')");
}

// Nothing is within a negative tolerance, and no two entries are a negative number of
// minutes apart: the rule would fail every group it compares.
void refuse_negative(const RuleSpec& rule, const ParamValues& params, const NumberRef& ref, const char* option,
                     const char* consequence, const char* zero_means) {
  if (!ref.set) return;
  Decimal d = params.number(ref, rule.loc);
  if (d.units >= 0) return;
  throw UserError(rule.loc.str() + ": rule '" + rule.name + "' has " + option + " " + threshold_text(ref, d) + ": " +
                  consequence + "; use 0 for " + zero_means);
}

constexpr const char* kNothingWithin = "no difference is within a negative tolerance, so every group would fail";

// The currency a money field declares for every record; 0 when it comes from the data.
CurrencyCode fixed_currency(const SystemSpec& sys, const std::string& field) {
  int i = sys.field_index(field);
  if (i < 0) return 0;
  const FieldSpec& f = sys.fields[static_cast<size_t>(i)];
  if (f.kind != FieldKind::Money || !f.currency_column.empty()) return 0;
  return pack_currency(f.currency);
}

void refuse_currency_mismatch(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left,
                              const SystemSpec& right) {
  CurrencyCode l = fixed_currency(left, rule.left_field), r = fixed_currency(right, rule.right_field);
  if (!l || !r || l == r) return;
  const FieldSpec& lf = left.fields[static_cast<size_t>(left.field_index(rule.left_field))];
  const FieldSpec& rf = right.fields[static_cast<size_t>(right.field_index(rule.right_field))];
  throw UserError(rule.loc.str() + ": rule '" + rule.name + "' compares " + rec.left + " " + rule.left_field +
                  ", always in " + currency_name(l) + " (" + lf.loc.str() + "), with " + rec.right + " " +
                  rule.right_field + ", always in " + currency_name(r) + " (" + rf.loc.str() +
                  "): amounts in different currencies never match, so every group would fail");
}

// ledger_equal pairs entries by text ids: a field mapped to money, a time or a number
// never holds one, and every entry would fail as having no entry id.
void refuse_entry_kind(const RuleSpec& rule, const SystemSpec& sys, const std::string& field, const char* option) {
  if (field.empty()) return;
  int i = sys.field_index(field);
  if (i < 0) return;
  const FieldSpec& f = sys.fields[static_cast<size_t>(i)];
  const char* kind = f.kind == FieldKind::Money      ? "money { ... }"
                     : f.kind == FieldKind::Time     ? "time { ... }"
                     : f.kind == FieldKind::Integer  ? "integer { ... }"
                     : f.kind == FieldKind::Quantity ? "quantity { ... }"
                                                     : nullptr;
  if (!kind) return;
  throw UserError(rule.loc.str() + ": rule '" + rule.name + "' pairs entries by " + option + " '" + field +
                  "', which system '" + sys.name + "' declares as " + kind + " (" + f.loc.str() +
                  "): entry ids are text, so no entry would have one; map the column as text (\"" + f.column + "\")");
}

}  // namespace

void refuse_unworkable(const StackSpec& spec, const ParamValues& params) {
  for (const auto& sys : spec.systems)
    for (const auto& f : sys.fields)
      if (f.kind == FieldKind::Extract)  // compiled by the mapper only when data is read
        Regex compiled(f.regex, f.loc.str() + ": field '" + f.name + "' of system '" + sys.name + "'");
  for (const auto& rec : spec.reconciles) {
    const SystemSpec* left = spec.find_system(rec.left);
    const SystemSpec* right = spec.find_system(rec.right);
    if (!left || !right) continue;
    for (const auto& rule : rec.rules) {
      switch (rule.kind) {
        case RuleKind::AmountEqual:
          refuse_negative(rule, params, rule.tolerance, "tolerance", kNothingWithin, "exact amounts");
          refuse_negative(rule, params, rule.tolerance_pct, "tolerance_pct", kNothingWithin, "exact amounts");
          refuse_currency_mismatch(rule, rec, *left, *right);
          break;
        case RuleKind::QuantityEqual:
          refuse_negative(rule, params, rule.tolerance, "tolerance", kNothingWithin, "exact counts");
          break;
        case RuleKind::LedgerEqual:
          refuse_negative(rule, params, rule.tolerance, "tolerance", kNothingWithin, "exact amounts");
          refuse_negative(rule, params, rule.window_minutes, "window_minutes",
                          "no two entries are a negative number of minutes apart, so none would pair",
                          "entries at the same time");
          refuse_currency_mismatch(rule, rec, *left, *right);
          refuse_entry_kind(rule, *left, rule.left_entry, "left_entry");
          refuse_entry_kind(rule, *right, rule.right_entry, "right_entry");
          break;
        case RuleKind::ValueMap:
          if (rule.map.empty())
            throw UserError(rule.loc.str() + ": rule '" + rule.name +
                            "' has an empty map: every " + rec.left + " " + rule.left_field +
                            " would fail as unmapped; list each value and what it becomes in " + rec.right +
                            " (map = { succeeded = \"Refunded\" }), or compare with equal { ... }");
          break;
        default: break;
      }
    }
  }
}

}  // namespace seam
