#include "engine/value/value.hpp"

namespace seam {

const char* kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::Missing: return "missing";
    case ValueKind::Empty: return "empty";
    case ValueKind::Text: return "text";
    case ValueKind::Integer: return "integer";
    case ValueKind::Money: return "money";
    case ValueKind::Time: return "time";
    case ValueKind::Boolean: return "boolean";
  }
  return "?";
}

std::string display(const Value& v) {
  switch (v.kind) {
    case ValueKind::Missing: return "(missing)";
    case ValueKind::Empty: return "(empty)";
    case ValueKind::Text: return std::string(v.text());
    case ValueKind::Integer: return std::to_string(v.i);
    case ValueKind::Money: return format_money(v.i, v.currency);
    case ValueKind::Time: return format_time_iso(v.i);
    case ValueKind::Boolean: return v.i ? "true" : "false";
  }
  return "";
}

std::string key_text(const Value& v) {
  switch (v.kind) {
    case ValueKind::Missing:
    case ValueKind::Empty: return "";
    case ValueKind::Text: return std::string(v.text());
    case ValueKind::Money: return format_amount(v.i, currency_scale(v.currency));
    default: return display(v);
  }
}

bool values_equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ValueKind::Missing:
    case ValueKind::Empty: return true;
    case ValueKind::Text: return a.text() == b.text();
    case ValueKind::Money: return a.i == b.i && a.currency == b.currency;
    default: return a.i == b.i;
  }
}

}  // namespace seam
