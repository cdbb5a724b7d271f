#pragma once
// Units of measure: quantities are compared in a stack's base unit ("each"). A stack
// declares how many base units each other unit holds, and per SKU where a case holds a
// different count. A unit with no declared conversion is an error, never a guess.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/util/result.hpp"

namespace seam {

struct UnitTable {
  std::string base;                                           // empty: the stack declares no units
  std::map<std::string, int64_t> per_unit;                    // unit → base units (base → 1)
  std::map<std::string, std::map<std::string, int64_t>> per_sku;  // SKU → unit → base units
  bool declared() const { return !base.empty(); }
  // Base units in one `unit` of `sku`; an error naming what is declared when there is none.
  Result<int64_t> factor(std::string_view unit, std::string_view sku) const;
};

// "2.5" cases of SKU-1 → 30 (each). The quantity must come to a whole number of base units.
Result<int64_t> to_base_units(std::string_view quantity, std::string_view unit, std::string_view sku,
                              const UnitTable& units);

}  // namespace seam
