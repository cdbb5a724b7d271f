#pragma once
// Money as reports add and print it: exact sums or a refusal, never across currencies.
#include <cstdint>
#include <map>
#include <string>

#include "engine/value/money.hpp"

namespace seam {

// "12.50 USD, 3.00 EUR": a sum per currency; "none" when there is none.
std::string per_currency(const std::map<CurrencyCode, int64_t>& sums);

// Report totals are exact or refused: a total beyond int64 stops the report with a message
// saying which total (`what`), rather than printing a wrapped number.
void add_to(int64_t& total, int64_t v, const std::string& what);

}  // namespace seam
