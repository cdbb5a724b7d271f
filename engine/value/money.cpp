#include "engine/value/money.hpp"

#include <cctype>
#include <algorithm>
#include <iterator>
#include <limits>

#include "engine/util/text.hpp"

namespace seam {

CurrencyCode pack_currency(std::string_view iso) {
  if (!is_currency_code(iso)) return 0;
  return (static_cast<uint32_t>(std::toupper(iso[0])) << 16) | (static_cast<uint32_t>(std::toupper(iso[1])) << 8) |
         static_cast<uint32_t>(std::toupper(iso[2]));
}

std::string currency_name(CurrencyCode code) {
  if (code == 0) return "";
  return std::string{static_cast<char>((code >> 16) & 0xff), static_cast<char>((code >> 8) & 0xff),
                     static_cast<char>(code & 0xff)};
}

bool is_currency_code(std::string_view s) {
  return s.size() == 3 && std::isalpha(static_cast<unsigned char>(s[0])) &&
         std::isalpha(static_cast<unsigned char>(s[1])) && std::isalpha(static_cast<unsigned char>(s[2]));
}

namespace {

constexpr std::string_view kSymbols[] = {"$", "\xE2\x82\xAC" /* € */, "\xC2\xA3" /* £ */, "\xC2\xA5" /* ¥ */};

bool is_symbol_prefix(std::string_view s, std::string_view& symbol) {
  for (auto sym : kSymbols)
    if (s.substr(0, sym.size()) == sym) {
      symbol = sym;
      return true;
    }
  return false;
}

bool is_symbol_suffix(std::string_view s, std::string_view& symbol) {
  for (auto sym : kSymbols)
    if (s.size() >= sym.size() && s.substr(s.size() - sym.size()) == sym) {
      symbol = sym;
      return true;
    }
  return false;
}

// A trailing "CR" or "DR" (any case), as a word of its own: "12.50 CR", "12.50CR".
bool ends_with_credit_debit(std::string_view s, bool& credit) {
  if (s.size() < 3) return false;
  char a = static_cast<char>(std::toupper(static_cast<unsigned char>(s[s.size() - 2])));
  char b = static_cast<char>(std::toupper(static_cast<unsigned char>(s[s.size() - 1])));
  if (b != 'R' || (a != 'C' && a != 'D')) return false;
  if (std::isalpha(static_cast<unsigned char>(s[s.size() - 3]))) return false;
  credit = a == 'C';
  return true;
}

// Spaces that never break, as French and Swiss exports group digits: "1 234,56".
size_t unicode_group_space(std::string_view s, size_t i) {
  if (s.compare(i, 2, "\xC2\xA0") == 0) return 2;                                          // U+00A0
  if (s.compare(i, 3, "\xE2\x80\xAF") == 0 || s.compare(i, 3, "\xE2\x80\x89") == 0) return 3;  // U+202F, U+2009
  return 0;
}

constexpr CurrencyCode code_of(const char (&iso)[4]) {
  return (static_cast<uint32_t>(iso[0]) << 16) | (static_cast<uint32_t>(iso[1]) << 8) | static_cast<uint32_t>(iso[2]);
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// The shape nearly every export writes, "-1234.50": digits, a leading '-' at most, and at
// most `scale` decimals after `decimal`. Read here without the general path's search for
// symbols, codes and notations (every amount of a run comes through): false for anything
// else, which the general path then reads, to the same value or with its message.
bool parse_plain_amount(std::string_view s, int scale, char decimal, int64_t& minor) {
  size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) i = 1;
  // 18 digits in all fit int64 with no check; a longer amount is the general path's.
  if (scale < 0 || scale > 18) return false;
  const size_t max_int_digits = 18 - static_cast<size_t>(scale);
  const size_t int_start = i;
  int64_t whole = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (i - int_start == max_int_digits) return false;
    whole = whole * 10 + (s[i] - '0');
  }
  if (i == int_start) return false;
  int64_t fraction = 0;
  int frac_digits = 0;
  if (i < s.size()) {
    if (s[i] != decimal) return false;
    for (++i; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || frac_digits == scale) return false;
      fraction = fraction * 10 + (s[i] - '0');
      ++frac_digits;
    }
    if (frac_digits == 0) return false;
  }
  int64_t factor = 1;
  for (int k = 0; k < scale; ++k) factor *= 10;
  for (; frac_digits < scale; ++frac_digits) fraction *= 10;
  minor = whole * factor + fraction;
  if (negative) minor = -minor;
  return true;
}

}  // namespace

bool symbol_fits(std::string_view symbol, CurrencyCode currency) {
  static constexpr CurrencyCode dollars[] = {
      code_of("USD"), code_of("CAD"), code_of("AUD"), code_of("NZD"), code_of("SGD"), code_of("HKD"), code_of("TWD"),
      code_of("MXN"), code_of("ARS"), code_of("CLP"), code_of("COP"), code_of("CUP"), code_of("DOP"), code_of("UYU"),
      code_of("BSD"), code_of("BBD"), code_of("BZD"), code_of("BMD"), code_of("BND"), code_of("FJD"), code_of("GYD"),
      code_of("JMD"), code_of("KYD"), code_of("LRD"), code_of("NAD"), code_of("SBD"), code_of("SRD"), code_of("TTD"),
      code_of("XCD"), code_of("USN")};
  static constexpr CurrencyCode pounds[] = {code_of("GBP"), code_of("GIP"), code_of("FKP"), code_of("SHP")};
  static constexpr CurrencyCode yen[] = {code_of("JPY"), code_of("CNY")};
  auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), currency) != std::end(list); };
  if (symbol == kSymbols[0]) return in(dollars);
  if (symbol == kSymbols[1]) return currency == code_of("EUR");
  if (symbol == kSymbols[2]) return in(pounds);
  if (symbol == kSymbols[3]) return in(yen);
  return false;
}

Result<ParsedAmount> parse_amount(std::string_view text, int scale, const MoneyFormat& format) {
  if (ParsedAmount plain; !format.minor_units && parse_plain_amount(text, scale, format.decimal, plain.minor))
    return plain;
  const std::string_view original = text;
  auto fail = [&](const std::string& why) {
    return err("cannot read " + quote_for_message(original) + " as an amount: " + why);
  };
  ParsedAmount out;
  std::string_view s = trim(text);
  if (s.empty()) return fail("it is empty");
  if (s == "-" || s == "\xE2\x80\x93" /* – */) {
    if (format.dash_zero) return out;
    return fail("a lone '-' is not a number; declare dash = \"zero\" if the export writes zero as '-', or "
                "null_if = { \"-\" } if it means no value");
  }

  // Exactly one sign notation: a leading '-' or '+' (before or after a currency symbol),
  // a trailing '-' (as some ERPs print credits), or parentheses (around the number, inside
  // or outside an ISO code). Two of them ("(-25.00)", "-25.00-") are refused, not
  // multiplied out: a double negative in a ledger is an export bug, not a positive amount.
  // Named for the message; a fixed array, since this runs for every amount of a run.
  const char* notations[4] = {};
  size_t notation_count = 0;
  auto note = [&](const char* name) {
    if (notation_count < 4) notations[notation_count] = name;
    ++notation_count;
  };
  bool negative = false;
  auto take_parens = [&] {
    if (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
      note("parentheses");
      negative = true;
      s = trim(s.substr(1, s.size() - 2));
    }
  };
  take_parens();
  // ISO code before or after the number: "USD 12.50", "12.50 USD".
  if (s.size() > 3 && is_currency_code(s.substr(0, 3)) && !std::isalpha(static_cast<unsigned char>(s[3]))) {
    out.currency = std::string(s.substr(0, 3));
    s = trim(s.substr(3));
  } else if (s.size() > 3 && is_currency_code(s.substr(s.size() - 3)) &&
             !std::isalpha(static_cast<unsigned char>(s[s.size() - 4]))) {
    out.currency = std::string(s.substr(s.size() - 3));
    s = trim(s.substr(0, s.size() - 3));
  }
  // Then signs, parentheses and one currency symbol in any order ("-$12.50", "$-12.50",
  // "USD (12.50)"), each taken off the outside, so that every notation written is counted.
  bool symbol_taken = false;
  bool credit = false;
  for (size_t before = s.size() + 1; s.size() != before;) {
    before = s.size();
    if (s.empty()) break;
    if (s.front() == '-' || s.front() == '+') {
      note(s.front() == '-' ? "a leading '-'" : "a leading '+'");
      negative = s.front() == '-';
      s = trim(s.substr(1));
    } else if (!symbol_taken && is_symbol_prefix(s, out.symbol)) {
      symbol_taken = true;
      s = trim(s.substr(out.symbol.size()));
    } else if (!symbol_taken && is_symbol_suffix(s, out.symbol)) {  // "12,50 €"
      symbol_taken = true;
      s = trim(s.substr(0, s.size() - out.symbol.size()));
    } else if (ends_with_credit_debit(s, credit)) {  // "12.50 CR", as ledgers and statements print
      note(credit ? "a trailing 'CR'" : "a trailing 'DR'");
      negative = credit == format.credit_negative;
      s = trim(s.substr(0, s.size() - 2));
    } else if (s.back() == '-') {  // "12.50-", as some ERPs print credits
      note("a trailing '-'");
      negative = true;
      s = trim(s.substr(0, s.size() - 1));
    } else {
      take_parens();
    }
  }
  if (notation_count > 1) {
    const size_t named = std::min<size_t>(notation_count, 4);
    std::string which;
    for (size_t k = 0; k < named; ++k) which += std::string(k == 0 ? "" : k + 1 == named ? " and " : ", ") + notations[k];
    const std::string how_many = notation_count == 2 ? "two" : notation_count == 3 ? "three" : std::to_string(notation_count);
    return fail(how_many + " sign notations (" + which + "): use one");
  }
  if (s.empty()) return fail("no digits");

  const char decimal = format.decimal;
  const char group = decimal == ',' ? '.' : ',';
  int64_t whole = 0;
  size_t i = 0;
  int group_digits = -1;  // digits since the last group separator; -1 before any separator
  int int_digits = 0;
  for (; i < s.size() && s[i] != decimal; ++i) {
    char c = s[i];
    if (size_t wide = unicode_group_space(s, i)) {
      i += wide - 1;
      c = ' ';
    }
    if (c == group || c == ' ' || c == '\'') {
      if (format.minor_units) return fail("minor units are whole numbers, found a separator");
      if (int_digits == 0 || (group_digits != -1 && group_digits != 3) || (group_digits == -1 && int_digits > 3))
        return fail(std::string("misplaced group separator '") + c + "'");
      group_digits = 0;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return fail(std::string("unexpected character '") + c + "'");
    if (whole > (kMax - 9) / 10) return fail("too large");
    whole = whole * 10 + (c - '0');
    ++int_digits;
    if (group_digits != -1) ++group_digits;
  }
  if (group_digits != -1 && group_digits != 3)
    return fail(std::string("a group separator '") + group + "' must be followed by 3 digits" +
                (decimal == '.' && group_digits == 2 ? " (is the decimal separator ','?)" : ""));

  int64_t fraction = 0;
  int frac_digits = 0;
  if (i < s.size()) {  // at the decimal separator
    if (format.minor_units) return fail("minor units are whole numbers, found a decimal separator");
    for (++i; i < s.size(); ++i) {
      char c = s[i];
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail(std::string("unexpected character '") + c + "'");
      if (frac_digits >= scale) {
        if (c != '0') return fail("more than " + std::to_string(scale) + " decimal places");
        continue;
      }
      fraction = fraction * 10 + (c - '0');
      ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) return fail("no digits");
  } else if (int_digits == 0) {
    return fail("no digits");
  }
  for (; frac_digits < scale; ++frac_digits) fraction *= 10;

  int64_t factor = 1;
  if (!format.minor_units)
    for (int k = 0; k < scale; ++k) factor *= 10;
  if (whole > (kMax - fraction) / factor) return fail("too large");
  out.minor = whole * factor + (format.minor_units ? 0 : fraction);
  if (negative) out.minor = -out.minor;
  return out;
}

Result<Decimal> parse_decimal(std::string_view text) {
  std::string_view s = trim(text);
  Decimal d;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  bool seen_point = false, any = false;
  for (char c : s) {
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c)) || d.units > (kMax - 9) / 10)
      return err("expected a decimal number such as 0.05, found " + quote_for_message(text));
    d.units = d.units * 10 + (c - '0');
    any = true;
    if (seen_point) ++d.scale;
  }
  if (!any) return err("expected a decimal number such as 0.05, found " + quote_for_message(text));
  if (neg) d.units = -d.units;
  return d;
}

int64_t Decimal::to_scale(int target_scale) const {
  int64_t v = units;
  for (int s = scale; s > target_scale; --s) v /= 10;
  for (int s = scale; s < target_scale; ++s)
    if (__builtin_mul_overflow(v, 10, &v)) return units < 0 ? std::numeric_limits<int64_t>::min() : kMax;
  return v;
}

std::string Decimal::str() const {
  if (scale == 0) return std::to_string(units);
  return format_amount(units, scale);
}

std::optional<std::pair<int64_t, CurrencyCode>> parse_money_text(std::string_view text) {
  auto space = text.rfind(' ');
  if (space == std::string_view::npos || text.size() - space - 1 != 3) return std::nullopt;
  std::string_view code = text.substr(space + 1);
  for (char c : code)
    if (c < 'A' || c > 'Z') return std::nullopt;
  CurrencyCode cur = pack_currency(code);
  auto amount = parse_amount(text.substr(0, space), currency_scale(cur), {});
  if (!amount) return std::nullopt;
  return std::pair{amount->minor, cur};
}

std::string int64_range_text(const char* units) {
  return std::string("the int64 range of ") + units + " (" + std::to_string(std::numeric_limits<int64_t>::min()) +
         " to " + std::to_string(kMax) + ")";
}

std::string format_amount(int64_t minor, int scale) {
  bool neg = minor < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string digits = std::to_string(u);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return neg ? "-" + digits : digits;
}

std::string format_money(int64_t minor, CurrencyCode currency) {
  // A code this process cannot scale: a stack's declared currency read back from the audit
  // log by a command that did not load the stack. A bare count is exact; a guessed scale is not.
  if (currency && known_currency_scale(currency) < 0)
    return std::to_string(minor) + " minor units of " + currency_name(currency);
  std::string out = format_amount(minor, currency_scale(currency));
  if (currency) out += " " + currency_name(currency);
  return out;
}

}  // namespace seam
