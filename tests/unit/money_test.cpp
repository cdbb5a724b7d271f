#include <doctest/doctest.h>

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
