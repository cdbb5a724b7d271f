#pragma once
// The cardinality rule: a reconciliation's declared cardinality (one_to_one by default)
// says how many records of a side one group may hold. Without a check of its own, a key
// held twice (an id collision, a re-export) would silently form a larger group; this rule
// gives such a group a verdict of its own, naming every record involved with file:line,
// and, in a one_to_one group that engine/match/pairing.hpp paired, the pairs the other
// rules judged and the records left without a partner.
#include <memory>
#include <optional>

#include "engine/rules/builtin.hpp"

namespace seam {

// The rule seam adds to `rec` (named "cardinality", severity high): it checks each side
// the cardinality holds to one record per group, except a side a `unique` rule on its
// match key checks already (it would say the same thing twice). nullopt when no side is
// left to check (many_to_many). Throws UserError (file:line) when the stack declares a rule
// of that name itself.
std::optional<RuleSpec> cardinality_rule(const ReconcileSpec& rec);

std::unique_ptr<CompiledRule> compile_cardinality(const RuleSpec& rule);

}  // namespace seam
