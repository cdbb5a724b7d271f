#pragma once
// One field of a normalized record. Missing (the source had no such column or key,
// or JSON null) is distinct from Empty (present, but blank).
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/value/money.hpp"
#include "engine/value/time.hpp"

namespace seam {

enum class ValueKind : uint8_t { Missing, Empty, Text, Integer, Money, Time, Boolean };

struct Value {
  ValueKind kind = ValueKind::Missing;
  CurrencyCode currency = 0;  // Money only
  int64_t i = 0;              // Integer, Money (minor units), Time (µs UTC), Boolean (0/1)
  std::string_view text;      // Text only; owned by the record set's arena

  static Value missing() { return {}; }
  static Value empty() { return {ValueKind::Empty, 0, 0, {}}; }
  static Value of_text(std::string_view s) { return {ValueKind::Text, 0, 0, s}; }
  static Value of_int(int64_t v) { return {ValueKind::Integer, 0, v, {}}; }
  static Value of_money(int64_t minor, CurrencyCode c) { return {ValueKind::Money, c, minor, {}}; }
  static Value of_time(TimeUs t) { return {ValueKind::Time, 0, t, {}}; }
  static Value of_bool(bool b) { return {ValueKind::Boolean, 0, b ? 1 : 0, {}}; }

  bool is_missing() const { return kind == ValueKind::Missing; }
  // Present and non-blank.
  bool has_content() const { return kind != ValueKind::Missing && kind != ValueKind::Empty; }
};

const char* kind_name(ValueKind k);
// Text a person reads: "12.50 USD", "2026-03-14T10:22:00Z", "(missing)", "(empty)".
std::string display(const Value& v);
// Canonical text for keys and value maps: text as is, numbers in decimal, money as amount.
std::string key_text(const Value& v);
bool values_equal(const Value& a, const Value& b);

}  // namespace seam
