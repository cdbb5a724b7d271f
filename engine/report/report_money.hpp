#pragma once
// Money as reports add and print it: exact sums or a refusal, never across currencies.
#include <cstdint>
#include <map>
#include <string>

#include "engine/value/money.hpp"

namespace seam {

// "1,212.50 USD, 3.00 EUR": a sum per currency, for people; "none" when there is none.
std::string per_currency(const std::map<CurrencyCode, int64_t>& sums);

// Report totals are exact or refused: a total beyond int64 stops the report with a message
// saying which total (`what`), rather than printing a wrapped number.
void add_to(int64_t& total, int64_t v, const std::string& what);

// "1,234,567.89 USD": format_money with thousands separators, for people (text and HTML
// reports); CSV and JSON keep format_money's plain digits for the programs reading them.
std::string readable_money(int64_t minor, CurrencyCode currency);
// The same for an amount format_money (or a rule's delta) already wrote: "-1234.50 USD",
// "-28"; any other text is returned as it is.
std::string readable_amount(const std::string& text);
// What a count delta puts at stake: "-24 each" -> "24 each", "-1" -> "1" (quantity rules
// write their counts in the stack's base unit). Empty for anything else, a lag included
// ("105 min", "2 days": time is late, not at stake).
std::string count_at_stake(const std::string& delta);
// "2026-03-24T06:00:00.123456Z" -> "2026-03-24T06:00:00Z": reports show times to the second.
std::string to_second(const std::string& iso);

}  // namespace seam
