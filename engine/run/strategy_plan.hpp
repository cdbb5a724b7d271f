#pragma once
// From a reconciliation's declared match strategies to ones the matcher runs: fields
// resolved to indices, thresholds (literals or params) to exact values, every mistake
// reported at the reconcile's file:line before any data is read.
#include <string>
#include <vector>

#include "engine/match/strategies.hpp"
#include "engine/spec/params.hpp"

namespace seam {

std::vector<ResolvedStrategy> plan_strategies(const ReconcileSpec& rec, const SystemSpec& left, const SystemSpec& right,
                                              const ParamValues& params);

// How a group was formed, for verdicts, trace and reports: "by key", "amount and date
// (0.03 USD more on the right, 2 days later, reference 93.1 % similar)"; empty when no
// strategy matched the group (a one-sided group) or the reconciliation has one keyed
// strategy only.
std::string describe_origin(const ReconcileSpec& rec, const GroupOrigin& o, CurrencyCode currency);

}  // namespace seam
