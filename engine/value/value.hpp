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

// 16 bytes: a million records of eight fields are 128 MB less than with a string_view
// beside the number, and evaluation touches half the cache lines. A Text value's bytes are
// where `i` would be (a pointer and a 32-bit length); a currency code is three letters,
// 24 bits (pack_currency).
struct Value {
  ValueKind kind : 8 = ValueKind::Missing;
  CurrencyCode currency : 24 = 0;  // Money only
  uint32_t text_size_ = 0;         // Text only
  union {
    int64_t i = 0;            // Integer, Money (minor units), Time (µs UTC), Boolean (0/1)
    const char* text_data_;   // Text only; owned by the record set's arena
  };

  static Value missing() { return {}; }
  static Value empty() {
    Value v;
    v.kind = ValueKind::Empty;
    return v;
  }
  // Text longer than 4 GiB cannot be one field: the mapper refuses it before it gets here.
  static Value of_text(std::string_view s) {
    Value v;
    v.kind = ValueKind::Text;
    v.text_size_ = static_cast<uint32_t>(s.size());
    v.text_data_ = s.data();
    return v;
  }
  static Value of_number(ValueKind k, int64_t n, CurrencyCode c = 0) {
    Value v;
    v.kind = k;
    v.currency = c;
    v.i = n;
    return v;
  }
  static Value of_int(int64_t n) { return of_number(ValueKind::Integer, n); }
  static Value of_money(int64_t minor, CurrencyCode c) { return of_number(ValueKind::Money, minor, c); }
  static Value of_time(TimeUs t) { return of_number(ValueKind::Time, t); }
  static Value of_bool(bool b) { return of_number(ValueKind::Boolean, b ? 1 : 0); }

  // The text of a Text value; empty for any other kind.
  std::string_view text() const {
    return kind == ValueKind::Text ? std::string_view(text_data_, text_size_) : std::string_view();
  }
  bool is_missing() const { return kind == ValueKind::Missing; }
  // Present and non-blank.
  bool has_content() const { return kind != ValueKind::Missing && kind != ValueKind::Empty; }
};
static_assert(sizeof(Value) == 16, "records hold millions of values: keep Value at 16 bytes");

// The most bytes one text field can hold (Value keeps a 32-bit length).
constexpr size_t kMaxTextBytes = UINT32_MAX;

const char* kind_name(ValueKind k);
// Text a person reads: "12.50 USD", "2026-03-14T10:22:00Z", "(missing)", "(empty)".
std::string display(const Value& v);
// Canonical text for keys and value maps: text as is, numbers in decimal, money as amount.
std::string key_text(const Value& v);
bool values_equal(const Value& a, const Value& b);

}  // namespace seam
