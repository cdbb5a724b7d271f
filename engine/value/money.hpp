#pragma once
// Money is an int64 count of minor units plus an ISO 4217 code; never a double.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/util/result.hpp"

namespace seam {

// Three ASCII letters packed into an int, so a Value stays small and comparisons are cheap.
using CurrencyCode = uint32_t;
CurrencyCode pack_currency(std::string_view iso);  // 0 when `iso` is not three letters
std::string currency_name(CurrencyCode code);
bool is_currency_code(std::string_view s);
// Digits after the decimal point: JPY 0, USD 2, KWD 3, CLF 4 (ISO 4217, engine/value/
// currencies.cpp), or as a stack declared (currencies { BTC = 8 }). 2 for a code neither
// knows, so that text already stored still prints; the mapper refuses such codes first.
int currency_scale(CurrencyCode code);
// The same, but -1 for a code that is neither in ISO 4217 nor declared.
int known_currency_scale(CurrencyCode code);
int iso_currency_scale(CurrencyCode code);  // -1 when not in ISO 4217
constexpr int kMaxCurrencyScale = 18;
// Adds a currency ISO 4217 does not have, for the rest of the process (thread-safe;
// called while a stack loads). Returns an error text, or empty on success: a code ISO
// has, a scale out of range, or a second declaration with another scale.
std::string declare_currency(CurrencyCode code, int scale);
// "currency BTC is not in ISO 4217; if it is meant, declare it ...": the one reason given
// for an unknown code, wherever it is found.
std::string unknown_currency_text(CurrencyCode code);

struct MoneyFormat {
  char decimal = '.';        // ',' for "1.234,56"
  bool minor_units = false;  // "1250" means 12.50
  // What a trailing "CR" means. The ledger convention (debits positive, credits
  // negative) is the default; a bank statement read from the holder's side declares
  // credit_sign = "positive", and then "DR" is negative.
  bool credit_negative = true;
  bool dash_zero = false;  // a lone "-" is 0 (declared dash = "zero"); else it is refused
};

struct ParsedAmount {
  int64_t minor = 0;
  std::optional<std::string> currency;  // an ISO code written in the text itself ("12.50 USD")
  std::string_view symbol;              // a currency symbol written in it ("$", "€"), static text
};

// Whether a currency symbol is one the currency is written with: "$" for USD, CAD, AUD
// and the other dollars and pesos, "€" for EUR only, "£" for GBP, "¥" for JPY and CNY.
bool symbol_fits(std::string_view symbol, CurrencyCode currency);

// Accepts "12.50", "1,234.56", "-12.50", "(12.50)", "$12.50", "12,50 €", "12.50-",
// "12.50 CR", "EUR 3,00" ... Rejects, with a reason, anything it would have to guess at:
// more decimals than the currency has, misplaced group separators, stray characters,
// two sign notations, a lone "-" not declared, overflow.
Result<ParsedAmount> parse_amount(std::string_view text, int scale, const MoneyFormat& format);

// A decimal literal ("0.05", "-3", "2.5") kept exactly as units and scale.
struct Decimal {
  int64_t units = 0;
  int scale = 0;
  // Rounded toward zero to `target_scale` digits: a tolerance never widens by rounding.
  // Saturates at the int64 limits instead of wrapping: a tolerance of 10^17 USD in cents
  // accepts any difference, as written, rather than a wrapped, negative one.
  int64_t to_scale(int target_scale) const;
  std::string str() const;
};
Result<Decimal> parse_decimal(std::string_view text);

// Reads money as seam prints it ("-36.00 USD", an upper-case ISO code after a space);
// nullopt for anything else ("105 min", "2 records").
std::optional<std::pair<int64_t, CurrencyCode>> parse_money_text(std::string_view text);

// Checked arithmetic for money and quantities (minor units, base units). Each returns
// false, leaving `out` unspecified, when the exact result does not fit int64: a sum that
// wrapped would compare as some unrelated amount and could let a group pass.
[[nodiscard]] inline bool checked_add(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }
[[nodiscard]] inline bool checked_sub(int64_t a, int64_t b, int64_t& out) { return !__builtin_sub_overflow(a, b, &out); }
[[nodiscard]] inline bool checked_neg(int64_t a, int64_t& out) { return !__builtin_sub_overflow(int64_t{0}, a, &out); }
// |a|; fails for INT64_MIN, whose magnitude is one past INT64_MAX.
[[nodiscard]] inline bool checked_abs(int64_t a, int64_t& out) { return a >= 0 ? (out = a, true) : checked_neg(a, out); }
// `acc += v`, checked; on overflow `acc` keeps its value.
[[nodiscard]] inline bool checked_accumulate(int64_t& acc, int64_t v) {
  int64_t r;
  if (!checked_add(acc, v, r)) return false;
  acc = r;
  return true;
}
// What every overflow message says the limit is: "the int64 range of minor units
// (-9223372036854775808 to 9223372036854775807)".
std::string int64_range_text(const char* units = "minor units");

std::string format_amount(int64_t minor, int scale);   // "-1234.50"
// "12.50 USD"; "1250 minor units of ZZZ" for a code neither ISO 4217 nor declared here.
std::string format_money(int64_t minor, CurrencyCode currency);

}  // namespace seam
