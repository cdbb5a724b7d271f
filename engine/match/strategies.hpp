#pragma once
// A reconciliation's match strategies, tried in declaration order over two record sets:
// keyed ones join on equal (optionally normalised) keys, keyless ones pair what no key
// joined by amount, time and reference (candidates.hpp). A record one strategy matched is
// not offered to the next; what none matched ends in one-sided groups, by its first keyed
// strategy's key (or its id when the reconciliation has no keyed strategy).
//
// Groups come out in one order whatever formed them: by their first left record's
// position, then right-only groups by their first right record's position. A single keyed
// strategy without normalisation is the plain hash join (matcher.hpp), and `origins` stays
// empty.
#include <string>
#include <vector>

#include "engine/match/candidates.hpp"
#include "engine/match/matcher.hpp"

namespace seam {

// A strategy with its fields resolved to indices and its thresholds to values (the run
// resolves params; see engine/run/strategy_plan.hpp).
struct ResolvedStrategy {
  std::string name;
  bool keyed = true;
  std::vector<int> left_key, right_key;
  ReferenceNormalize normalize;
  CandidateStrategy candidates;  // keyless
};

// `threads`: how many threads a single keyed strategy's join may use (matcher.hpp).
MatchResult match_strategies(const std::vector<ResolvedStrategy>& strategies, const RecordSet& left,
                             const RecordSet& right, size_t threads = 1);

}  // namespace seam
