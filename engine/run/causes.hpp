#pragma once
// Declared root causes, on the evaluation side: checking a rule's caused_by against the
// stack, and naming for each failing group the keys its cause is looked up by. The audit
// side (engine/audit/causes.hpp) decides which of those exceptions can explain it.
#include <string>
#include <vector>

#include "engine/mapping/records.hpp"
#include "engine/match/matcher.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// Throws UserError with the rule's file:line when one of its causes names a reconciliation or
// rule the stack does not declare, or a `via` field its systems do not.
void validate_cause(const StackSpec& spec, const ReconcileSpec& rec, const RuleSpec& rule, const SystemSpec& left,
                    const SystemSpec& right);

// "same_sign", "opposite_sign" or "any": the declared expectation, else same_sign when
// both reconciliations hold their system of record on the same side (deltas are right
// minus left, so money missing from the copy moves both the same way), else opposite_sign.
std::string cause_expectation(const StackSpec& spec, const ReconcileSpec& rec, const CauseSpec& cause);

// `seam check` warnings: a cause that can never be linked because the effect's rule or the
// cause's can carry no amount (no delta of its kind, no amount field on its systems) while
// the expectation is a sign.
std::vector<Warning> lint_causes(const StackSpec& spec);

// For one declared cause of a rule: the cause reconciliation's keys a group names.
// Without `via`, the group's own key; with it, the distinct non-empty values of the via
// field on the group's records (left ones first, in match order), as key text.
class CauseKeys {
 public:
  CauseKeys(const CauseSpec& cause, const SystemSpec& left, const SystemSpec& right);
  std::vector<std::string> of(const MatchGroup& g, const MatchResult& m, const RecordSet& left,
                              const RecordSet& right) const;

 private:
  bool via_ = false;
  int left_ = -1, right_ = -1;  // the via field on each side, -1 when not read there
};

}  // namespace seam
