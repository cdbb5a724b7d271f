#include "engine/spec/stack_spec.hpp"

#include "engine/util/text.hpp"

#include <algorithm>
#include <cctype>

namespace seam {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Integer: return "integer";
    case ParamType::Number: return "number";
    case ParamType::Money: return "money";
    case ParamType::Text: return "text";
    case ParamType::Boolean: return "boolean";
  }
  return "?";
}

const char* side_name(Side s) { return s == Side::Left ? "left" : "right"; }

const char* rule_kind_name(RuleKind k) {
  switch (k) {
    case RuleKind::ExistsIn: return "exists_in";
    case RuleKind::AmountEqual: return "amount_equal";
    case RuleKind::QuantityEqual: return "quantity_equal";
    case RuleKind::LedgerEqual: return "ledger_equal";
    case RuleKind::LowStock: return "low_stock";
    case RuleKind::ValueMap: return "value_map";
    case RuleKind::Equal: return "equal";
    case RuleKind::Within: return "within";
    case RuleKind::Unique: return "unique";
    case RuleKind::Present: return "present";
    case RuleKind::Cardinality: return "cardinality";
    case RuleKind::ValueIn: return "value_in";
    case RuleKind::ValueNotIn: return "value_not_in";
    case RuleKind::SamePeriod: return "same_period";
    case RuleKind::Lua: return "lua";
  }
  return "?";
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
  }
  return "?";
}

std::optional<Severity> parse_severity(const std::string& s) {
  for (auto sev : {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical})
    if (s == severity_name(sev)) return sev;
  return std::nullopt;
}

const char* cardinality_name(Cardinality c) {
  switch (c) {
    case Cardinality::OneToOne: return "one_to_one";
    case Cardinality::OneToMany: return "one_to_many";
    case Cardinality::ManyToOne: return "many_to_one";
    case Cardinality::ManyToMany: return "many_to_many";
  }
  return "?";
}

const char* tolerance_base_name(ToleranceBase b) {
  switch (b) {
    case ToleranceBase::Left: return "left";
    case ToleranceBase::Right: return "right";
    case ToleranceBase::Larger: return "larger";
    case ToleranceBase::Smaller: return "smaller";
  }
  return "?";
}

std::string FieldSpec::source_text() const {
  auto quoted = [](const std::vector<std::string>& list) {
    std::string out;
    for (const auto& c : list) out += (out.empty() ? "'" : ", '") + c + "'";
    return out;
  };
  if (!debit_column.empty()) return "debit '" + debit_column + "' / credit '" + credit_column + "'";
  if (column_by.set()) return "column chosen by field '" + column_by.field + "'";
  if (!columns.empty()) return "columns " + quoted(columns);
  return column.empty() ? "" : "column '" + column + "'";
}

int SystemSpec::field_index(const std::string& field) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field) return static_cast<int>(i);
  return -1;
}

std::vector<std::string> SystemSpec::field_names() const {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  return names;
}

std::string SystemSpec::not_declared(const std::string& field) const {
  std::string hint = did_you_mean(field, field_names());
  return "which system '" + name + "' does not declare" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

std::vector<std::string> RuleSpec::params_used() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const NumberRef* ref : {&grace_minutes, &tolerance, &tolerance_pct, &minutes, &min_minutes, &days, &min_days, &factor,
                               &window_minutes})
    add(ref->param);
  if (kind == RuleKind::Lua) {
    // params.NAME or params["NAME"] in the rule's source
    for (size_t at = definition.find("params"); at != std::string::npos; at = definition.find("params", at + 6)) {
      if (at > 0 && (std::isalnum(static_cast<unsigned char>(definition[at - 1])) || definition[at - 1] == '_')) continue;
      size_t p = at + 6;
      std::string name;
      if (p < definition.size() && definition[p] == '.') {
        for (++p; p < definition.size() && (std::isalnum(static_cast<unsigned char>(definition[p])) || definition[p] == '_'); ++p)
          name.push_back(definition[p]);
      } else if (definition.compare(p, 2, "[\"") == 0) {
        size_t end = definition.find('"', p + 2);
        if (end != std::string::npos) name = definition.substr(p + 2, end - p - 2);
      }
      add(name);
    }
  }
  return out;
}

const SystemSpec* StackSpec::find_system(const std::string& n) const {
  for (const auto& s : systems)
    if (s.name == n) return &s;
  return nullptr;
}

const ParamSpec* StackSpec::find_param(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

}  // namespace seam
