#include "engine/spec/match_keys.hpp"

namespace seam {

std::string match_keys_definition(const StackSpec& spec, size_t reconcile_no) {
  const ReconcileSpec& rec = spec.reconciles.at(reconcile_no);
  auto id_of = [&](const std::string& system) {
    const SystemSpec* s = spec.find_system(system);
    return s && !s->id_field.empty() ? s->id_field : std::string("(line)");
  };
  std::string out = rec.left + "." + id_of(rec.left) + " -> " + rec.right + "." + id_of(rec.right);
  for (const auto& s : rec.strategies)
    if (s.keyed) out += "; " + s.definition;
  if (!rec.key_by.empty()) out += "; key_by " + rec.key_by;
  if (!rec.chain.empty())
    for (size_t k = 0; k < reconcile_no; ++k)  // a chain continues an earlier reconciliation
      if (spec.reconciles[k].name == rec.chain) out += "; chain " + rec.chain + " (" + match_keys_definition(spec, k) + ")";
  return out;
}

}  // namespace seam
