#include "engine/rules/rule_support.hpp"

#include <cstdlib>
#include <filesystem>

#include "engine/util/result.hpp"

namespace seam {

Verdict overflow_error(const std::string& what, const SideRef& s, const char* units) {
  return Verdict::make(Outcome::Error, what + " over " + s.system + " " + ids_of(s) + " exceeds " +
                                           int64_range_text(units) + "; check these records' values",
                       "", "overflow");
}
Verdict overflow_error(const std::string& what, const SideRef& l, const SideRef& r, const char* units) {
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
             std::initializer_list<FieldKind> kinds) {
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


std::optional<Decimal> maybe(const NumberRef& ref, const ParamValues& params, const SourceLoc& loc) {
  if (!ref.set) return std::nullopt;
  return params.number(ref, loc);
}

int64_t minutes_us(const Decimal& d) {
  return d.to_scale(6) * kMicrosPerMinute / 1'000'000;
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

std::string count_unit(const SystemSpec& sys, int field) {
  if (field < 0 || sys.fields[static_cast<size_t>(field)].kind != FieldKind::Quantity) return {};
  return sys.units.base;
}

}  // namespace seam
