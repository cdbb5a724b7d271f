#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "engine/value/money.hpp"

using namespace seam;

namespace {
int64_t minor(const char* text, int scale = 2, MoneyFormat f = {}) {
  auto r = parse_amount(text, scale, f);
  if (!r.ok()) FAIL(r.error());
  return r->minor;
}
std::string failure(const char* text, int scale = 2, MoneyFormat f = {}) {
  auto r = parse_amount(text, scale, f);
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("money: the notations exports actually use") {
  CHECK(minor("12.50") == 1250);
  CHECK(minor("1,234.56") == 123456);
  CHECK(minor("-12.50") == -1250);
  CHECK(minor("(12.50)") == -1250);
  CHECK(minor("$12.50") == 1250);
  CHECK(minor("-$12.50") == -1250);
  CHECK(minor("$-12.50") == -1250);
  CHECK(minor("12.50-") == -1250);
  CHECK(minor(" 7 ") == 700);
  CHECK(minor(".5") == 50);
  CHECK(minor("12.5000") == 1250);  // trailing zeros beyond the scale are harmless
  CHECK(minor("1,234,567.89") == 123456789);
}

TEST_CASE("money: declared minor units and other decimal conventions") {
  CHECK(minor("1250", 2, MoneyFormat{'.', true}) == 1250);
  CHECK(minor("-5", 2, MoneyFormat{'.', true}) == -5);
  CHECK(minor("1.234,56", 2, MoneyFormat{',', false}) == 123456);
  CHECK(failure("12.50", 2, MoneyFormat{'.', true}).find("minor units are whole numbers") != std::string::npos);
}

TEST_CASE("money: the currency sets the scale") {
  CHECK(currency_scale(pack_currency("USD")) == 2);
  CHECK(currency_scale(pack_currency("JPY")) == 0);
  CHECK(currency_scale(pack_currency("KWD")) == 3);
  CHECK(minor("1,500", 0) == 1500);
  CHECK(minor("1.250", 3) == 1250);
  CHECK(format_money(1500, pack_currency("JPY")) == "1500 JPY");
  CHECK(format_money(1250, pack_currency("KWD")) == "1.250 KWD");
}

TEST_CASE("money: a code written in the amount is returned for checking") {
  auto r = parse_amount("EUR 3.00", 2, {});
  REQUIRE(r.ok());
  CHECK(r->minor == 300);
  CHECK(*r->currency == "EUR");
  auto s = parse_amount("3.00 USD", 2, {});
  REQUIRE(s.ok());
  CHECK(*s->currency == "USD");
}

TEST_CASE("money: anything that would need a guess is refused with the reason") {
  CHECK(failure("12.505") == "cannot read '12.505' as an amount: more than 2 decimal places");
  CHECK(failure("12,50") ==
        "cannot read '12,50' as an amount: a group separator ',' must be followed by 3 digits (is the decimal separator ','?)");
  CHECK(failure("abc") == "cannot read 'abc' as an amount: unexpected character 'a'");
  CHECK(failure("") == "cannot read '' as an amount: it is empty");
  CHECK(failure("$") == "cannot read '$' as an amount: no digits");
  CHECK(failure("1,23,456.00") == "cannot read '1,23,456.00' as an amount: misplaced group separator ','");
  CHECK(failure("99999999999999999999") == "cannot read '99999999999999999999' as an amount: too large");
  CHECK(failure("12.3.4") == "cannot read '12.3.4' as an amount: unexpected character '.'");
}

TEST_CASE("money: formatting and decimals") {
  CHECK(format_amount(-5, 2) == "-0.05");
  CHECK(format_amount(123456, 2) == "1234.56");
  CHECK(format_amount(0, 2) == "0.00");
  CHECK(format_money(-3600, pack_currency("USD")) == "-36.00 USD");
  auto d = parse_decimal("0.055");
  REQUIRE(d.ok());
  CHECK(d->to_scale(2) == 5);  // toward zero: a tolerance never widens by rounding
  CHECK(d->to_scale(4) == 550);
  CHECK(d->str() == "0.055");
  CHECK_FALSE(parse_decimal("1.2.3").ok());
  CHECK_FALSE(parse_decimal("ten").ok());
  CHECK(parse_decimal("-3")->units == -3);
}

TEST_CASE("money: reading back money as seam prints it, and nothing else") {
  auto m = parse_money_text("-36.00 USD");
  REQUIRE(m.has_value());
  CHECK(m->first == -3600);
  CHECK(currency_name(m->second) == "USD");
  CHECK(parse_money_text("1500 JPY")->first == 1500);
  CHECK_FALSE(parse_money_text("105 min").has_value());
  CHECK_FALSE(parse_money_text("2 records").has_value());
  CHECK_FALSE(parse_money_text("USD").has_value());
}

TEST_CASE("money: one ISO 4217 table sets every scale: 0, 2, 3 and 4 decimals") {
  for (const char* zero : {"JPY", "KRW", "CLP", "ISK", "VND", "UGX", "PYG", "XAF", "XOF", "XPF", "BIF", "UYI"}) {
    CAPTURE(zero);
    CHECK(known_currency_scale(pack_currency(zero)) == 0);
  }
  for (const char* three : {"BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD"}) {
    CAPTURE(three);
    CHECK(known_currency_scale(pack_currency(three)) == 3);
  }
  CHECK(known_currency_scale(pack_currency("CLF")) == 4);
  CHECK(known_currency_scale(pack_currency("UYW")) == 4);
  CHECK(known_currency_scale(pack_currency("usd")) == 2);
  CHECK(known_currency_scale(pack_currency("EUR")) == 2);
  // No numeric minor unit in ISO 4217 (XXX, XTS, gold) or not in it at all: unknown.
  for (const char* unknown : {"XXX", "XTS", "XAU", "XDR", "BTC", "ABC", "HRK"}) {
    CAPTURE(unknown);
    CHECK(known_currency_scale(pack_currency(unknown)) == -1);
  }
  CHECK(minor("1.2345", 4) == 12345);
  CHECK(format_money(12345, pack_currency("CLF")) == "1.2345 CLF");
  CHECK(format_money(1250, pack_currency("BHD")) == "1.250 BHD");
  CHECK(format_money(-1250, pack_currency("ZZA")) == "-1250 minor units of ZZA");  // never a guessed scale
  CHECK(unknown_currency_text(pack_currency("XXX")) ==
        "currency XXX is not in ISO 4217; if it is meant, declare it with its decimals: currencies { XXX = 8 }");
}

TEST_CASE("money: a stack declares the currencies ISO 4217 does not have, once, with one scale") {
  CHECK(declare_currency(pack_currency("ZZB"), 8) == "");
  CHECK(declare_currency(pack_currency("ZZB"), 8) == "");  // the same again (a stack loaded twice) is fine
  CHECK(known_currency_scale(pack_currency("ZZB")) == 8);
  CHECK(format_money(123456789, pack_currency("ZZB")) == "1.23456789 ZZB");
  CHECK(declare_currency(pack_currency("ZZB"), 6) ==
        "currency ZZB is declared with 8 decimals by a stack loaded earlier in this process; one code has one scale");
  CHECK(declare_currency(pack_currency("USD"), 8) ==
        "currency USD is in ISO 4217 already (2 decimals); declare only codes ISO 4217 does not have");
  CHECK(declare_currency(pack_currency("ZZC"), 19) == "currency ZZC must have 0 to 18 decimals, found 19");
}

TEST_CASE("money: a trailing CR or DR is a sign, credits negative unless credit_sign says otherwise") {
  CHECK(minor("12.50 CR") == -1250);
  CHECK(minor("12.50CR") == -1250);
  CHECK(minor("12.50 cr") == -1250);
  CHECK(minor("12.50 DR") == 1250);
  CHECK(minor("$1,234.00 CR") == -123400);
  MoneyFormat statement;
  statement.credit_negative = false;  // credit_sign = "positive"
  CHECK(minor("12.50 CR", 2, statement) == 1250);
  CHECK(minor("12.50 DR", 2, statement) == -1250);
  CHECK(minor("0.00 CR") == 0);
  CHECK(failure("-12.50 CR") ==
        "cannot read '-12.50 CR' as an amount: two sign notations (a leading '-' and a trailing 'CR'): use one");
  CHECK(failure("(12.50) DR") ==
        "cannot read '(12.50) DR' as an amount: two sign notations (a trailing 'DR' and parentheses): use one");
  CHECK(failure("12.50 XR") == "cannot read '12.50 XR' as an amount: unexpected character ' '");
  CHECK(failure("CR") == "cannot read 'CR' as an amount: unexpected character 'C'");
}

TEST_CASE("money: a decimal comma with '.', space, apostrophe or a no-break space between thousands") {
  MoneyFormat comma{',', false};
  CHECK(minor("1.234,56", 2, comma) == 123456);
  CHECK(minor("1 234,56", 2, comma) == 123456);
  CHECK(minor("1'234,56", 2, comma) == 123456);
  CHECK(minor("1\xC2\xA0" "234,56", 2, comma) == 123456);      // U+00A0
  CHECK(minor("1\xE2\x80\xAF" "234\xE2\x80\xAF" "567,8", 2, comma) == 123456780);  // U+202F
  CHECK(minor("-1.234,56", 2, comma) == -123456);
  CHECK(minor("1.234,56 CR", 2, comma) == -123456);
  CHECK(failure("1.23,56", 2, comma) == "cannot read '1.23,56' as an amount: a group separator '.' must be followed by 3 digits");
  CHECK(failure("1,234.56", 2, comma) == "cannot read '1,234.56' as an amount: more than 2 decimal places");
}

TEST_CASE("money: currency symbols before or after, returned for checking against the currency") {
  auto before = parse_amount("\xE2\x82\xAC" "12.50", 2, {});
  REQUIRE(before.ok());
  CHECK(before->minor == 1250);
  CHECK(before->symbol == "\xE2\x82\xAC");
  auto after = parse_amount("12,50 \xE2\x82\xAC", 2, MoneyFormat{',', false});
  REQUIRE(after.ok());
  CHECK(after->minor == 1250);
  CHECK(after->symbol == "\xE2\x82\xAC");
  auto yen = parse_amount("1500\xC2\xA5", 0, {});
  REQUIRE(yen.ok());
  CHECK(yen->symbol == "\xC2\xA5");
  CHECK(minor("-12.50 $") == -1250);
  CHECK(parse_amount("12.50", 2, {})->symbol.empty());
  CHECK(symbol_fits("$", pack_currency("USD")));
  CHECK(symbol_fits("$", pack_currency("CAD")));
  CHECK_FALSE(symbol_fits("$", pack_currency("EUR")));
  CHECK(symbol_fits("\xE2\x82\xAC", pack_currency("EUR")));
  CHECK_FALSE(symbol_fits("\xE2\x82\xAC", pack_currency("USD")));
  CHECK(symbol_fits("\xC2\xA3", pack_currency("GBP")));
  CHECK_FALSE(symbol_fits("\xC2\xA3", pack_currency("EUR")));
  CHECK(symbol_fits("\xC2\xA5", pack_currency("JPY")));
  CHECK(symbol_fits("\xC2\xA5", pack_currency("CNY")));
  CHECK_FALSE(symbol_fits("\xC2\xA5", pack_currency("KRW")));
  CHECK(failure("$12.50$") == "cannot read '$12.50$' as an amount: unexpected character '$'");
}

TEST_CASE("money: a lone dash is zero only when declared") {
  MoneyFormat dash;
  dash.dash_zero = true;
  CHECK(minor("-", 2, dash) == 0);
  CHECK(minor(" - ", 2, dash) == 0);
  CHECK(minor("\xE2\x80\x93", 2, dash) == 0);  // an en dash, as spreadsheets print it
  CHECK(minor("-5", 2, dash) == -500);
  CHECK(failure("-") ==
        "cannot read '-' as an amount: a lone '-' is not a number; declare dash = \"zero\" if the export writes zero "
        "as '-', or null_if = { \"-\" } if it means no value");
  CHECK(failure("--", 2, dash) == "cannot read '--' as an amount: two sign notations (a leading '-' and a leading '-'): use one");
}

// Plain amounts take a short path through parse_amount; what it reads, and what it leaves
// to the general path, must come out as the general path alone read them.
TEST_CASE("money: plain amounts near the short path's edges read as the general rules say") {
  CHECK(minor("0") == 0);
  CHECK(minor("-0.00") == 0);
  CHECK(minor("12") == 1200);
  CHECK(minor("-12.5") == -1250);
  CHECK(minor("12.") == 1200);          // a decimal point with no digits: the general path
  CHECK(minor("12.500") == 1250);       // zeros past the scale: the general path
  CHECK(minor("+12.50") == 1250);
  CHECK(minor(".5") == 50);
  CHECK(minor("1234567890123456.78") == 123456789012345678);  // 18 digits: the short path
  CHECK(minor("12345678901234567.89") == 1234567890123456789); // 19: the general path's checks
  CHECK(failure("99999999999999999.99").find("too large") != std::string::npos);
  CHECK(failure("12.505").find("more than 2 decimal places") != std::string::npos);
  CHECK(failure("12.5", 0).find("more than 0 decimal places") != std::string::npos);
  CHECK(minor("7", 0) == 7);
  CHECK(minor("7.125", 3) == 7125);
  CHECK(minor("-7.1", 4) == -71000);
  MoneyFormat comma;
  comma.decimal = ',';
  CHECK(minor("12,50", 2, comma) == 1250);
  CHECK(minor("1234", 2, comma) == 123400);
  CHECK(failure("12.50", 2, comma).find("group separator") != std::string::npos);
  MoneyFormat cents;
  cents.minor_units = true;
  CHECK(minor("1250", 2, cents) == 1250);  // minor units never take the short path
  CHECK(failure("12.50", 2, cents).find("minor units") != std::string::npos);
  // Every amount of up to 15 whole digits and 0-2 decimals at scale 2, sampled.
  for (int64_t whole : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{100000}, int64_t{999999999999999}})
    for (const char* frac : {"", ".0", ".05", ".5", ".99"})
      for (bool neg : {false, true}) {
        const std::string text = (neg ? "-" : "") + std::to_string(whole) + frac;
        int64_t cents_of_frac = frac[0] ? std::stoll(std::string(frac + 1) + (std::strlen(frac) == 2 ? "0" : "")) : 0;
        const int64_t expected = (whole * 100 + cents_of_frac) * (neg ? -1 : 1);
        CAPTURE(text);
        CHECK(minor(text.c_str()) == expected);
      }
}
