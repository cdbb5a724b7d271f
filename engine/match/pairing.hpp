#pragma once
// Best-fit pairing inside groups that break a one_to_one cardinality: when one side holds
// a key twice (an id collision, a re-export), the group holds several records per side and
// a rule comparing "the" left record with "the" right one would judge the wrong partners.
// Such a group's records are reordered so that left_of(g)[i] and right_of(g)[i] are the
// i-th pair, chosen greedily by the closest amount, then the closest time, then input order;
// what is left over (the longer side's tail) has no partner. Pairwise rules then compare
// pairs only (MatchResult::is_paired); the cardinality rule names the pairs and the extras.
#include "engine/match/matcher.hpp"
#include "engine/match/nearest.hpp"

namespace seam {

// Above this many candidate pairs in one group (left records x right records) a group is
// paired in input order instead, and says so: best fit costs that many comparisons.
constexpr size_t kMaxPairingCandidates = 250'000;

// Pairs every group of `m` holding more than one record on either side and at least one on
// each. `fields` names the money and time fields the fit is measured on (-1: not used).
// Deterministic: the same records in the same order always pair the same way.
void pair_by_best_fit(MatchResult& m, const RecordSet& left, const RecordSet& right, const NearestFields& fields);

}  // namespace seam
