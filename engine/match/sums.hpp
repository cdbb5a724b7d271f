#pragma once
// Matching by sum: one record of one side against several records of the other that add up
// to it, when no key says which belong together (a processor payout and the charges it
// settles; one ERP entry booked for several partial refunds).
//
// The search is bounded and exact. For each record of the one side, in (time, id, line)
// order, the candidates are the other side's records not consumed yet, in its currency,
// within the time window (and matching the reference criterion, if any): the closest
// `max_candidates` in time. Sums of 1, 2, ... `max_records` candidates are tried in that
// order; the first size with a sum within the amount tolerance wins, and within it the sum
// closest to the amount, then the first in candidate order (closest in time). At most
// `max_subsets` subsets are tried per record; a record whose search a bound stopped before
// it found a sum is reported (`stopped`), so its verdict can say why nothing matched.
#include <span>
#include <vector>

#include "engine/match/candidates.hpp"

namespace seam {

struct SumMatch {
  uint32_t one = 0;               // the record on the one side
  std::vector<uint32_t> many;     // the records summed, by id (then line)
  int64_t amount_delta = 0;       // right - left: the sum against the one, minor units
  int64_t time_delta = 0;         // right - left of the member furthest in time
};

struct SumResult {
  std::vector<SumMatch> matches;
  std::vector<uint32_t> stopped;  // one-side records left unmatched because a bound cut the search
};

// `strategy.sum` must be set and strategy_problem() empty.
SumResult match_sums(const RecordSet& left, std::span<const uint32_t> left_rows, const RecordSet& right,
                     std::span<const uint32_t> right_rows, const CandidateStrategy& strategy);

}  // namespace seam
