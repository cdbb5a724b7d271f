#include "engine/value/units.hpp"

#include "engine/util/text.hpp"
#include "engine/value/money.hpp"
#include "engine/value/wide.hpp"

namespace seam {

Result<int64_t> UnitTable::factor(std::string_view unit, std::string_view sku) const {
  if (unit == base) return int64_t{1};
  if (!sku.empty())
    if (auto s = per_sku.find(std::string(sku)); s != per_sku.end())
      if (auto u = s->second.find(std::string(unit)); u != s->second.end()) return u->second;
  if (auto u = per_unit.find(std::string(unit)); u != per_unit.end()) return u->second;
  std::string known = base;
  for (const auto& [name, n] : per_unit) known += ", " + name;
  return err("no conversion from unit " + quote_for_message(unit) + " to " + base +
               (sku.empty() ? std::string() : " for " + std::string(sku)) + " (declared: " + known + ")");
}

Result<int64_t> to_base_units(std::string_view quantity, std::string_view unit, std::string_view sku,
                              const UnitTable& units) {
  auto q = parse_decimal(trim(quantity));
  if (!q) return err("cannot read " + quote_for_message(quantity) + " as a quantity: " + q.error());
  auto f = units.factor(trim(unit), sku);
  if (!f) return err(f.error());
  Wide total = static_cast<Wide>(q->units) * *f, divisor = 1;
  for (int s = 0; s < q->scale; ++s) divisor *= 10;
  if (total % divisor != 0)
    return err(std::string(trim(quantity)) + " " + std::string(trim(unit)) + " is not a whole number of " + units.base);
  Wide result = total / divisor;
  if (result > INT64_MAX || result < INT64_MIN) return err("quantity " + quote_for_message(quantity) + " is too large");
  return static_cast<int64_t>(result);
}

}  // namespace seam
