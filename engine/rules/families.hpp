#pragma once
// One compile function per built-in rule family, each in its own file (exists_in.cpp,
// amounts.cpp, ledger.cpp, low_stock.cpp, text_rules.cpp, within.cpp, unique.cpp,
// cardinality.cpp): compile_rule in builtin.cpp only dispatches. Each resolves its fields
// and thresholds and throws UserError at the rule's file:line when it cannot work.
#include <memory>

#include "engine/rules/builtin.hpp"

namespace seam {

#define SEAM_RULE_FAMILY(name)                                                                                    \
  std::unique_ptr<CompiledRule> compile_##name(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left, \
                                               const SystemSpec& right, const ParamValues& params)
SEAM_RULE_FAMILY(exists_in);
SEAM_RULE_FAMILY(amount_equal);
SEAM_RULE_FAMILY(quantity_equal);
SEAM_RULE_FAMILY(ledger);
SEAM_RULE_FAMILY(low_stock);
SEAM_RULE_FAMILY(field_equal);  // equal, value_map
SEAM_RULE_FAMILY(value_in);     // value_in, value_not_in
SEAM_RULE_FAMILY(within);
SEAM_RULE_FAMILY(same_period);
SEAM_RULE_FAMILY(unique);
SEAM_RULE_FAMILY(present);
#undef SEAM_RULE_FAMILY

}  // namespace seam
