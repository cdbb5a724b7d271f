#pragma once
// What keyless strategies (candidates.cpp, sums.cpp) share: the features a strategy reads
// of a record, once, and the exact tests of an amount tolerance and a time window.
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/match/candidates.hpp"
#include "engine/value/time.hpp"

namespace seam::criteria {

__extension__ typedef __int128 i128;

inline int64_t saturate(i128 v) { return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : static_cast<int64_t>(v); }
inline i128 abs128(i128 v) { return v < 0 ? -v : v; }

// What the strategy reads of one record, computed once.
struct Features {
  bool usable = true;  // every field a criterion needs is present
  CurrencyCode currency = 0;
  int64_t amount = 0;
  int64_t time = 0;  // µs, or a day number when the window is in calendar days
  std::string reference;
};

class FeatureReader {
 public:
  FeatureReader(const CandidateStrategy& s, Side side);
  Features read(const RecordSet& rs, uint32_t rec) const;

 private:
  const CandidateStrategy& s_;
  Side side_;
  const date::time_zone* zone_ = nullptr;
  std::unique_ptr<ReferenceNormalizer> normalizer_;
};

// |delta| allowed between amounts `a` (left) and `b` (right) in minor units of a currency of
// `scale` digits: the larger of the absolute tolerance and the percentage of the base.
bool amount_within(const AmountCriterion& c, int scale, int64_t a, int64_t b);
// The widest |b - a| any b may be at for left amount `a`: the search window.
int64_t amount_reach(const AmountCriterion& c, int scale, int64_t a);
// The right-side time range a left time `t` admits.
std::pair<int64_t, int64_t> time_range(const TimeCriterion& c, int64_t t);
bool time_within(const TimeCriterion& c, int64_t t_left, int64_t t_right);
// Rank of each record of `rows` in (id, line) order: ties break by integers, whatever the
// order the records came in.
std::vector<uint32_t> ranks_of(const RecordSet& rs, std::span<const uint32_t> rows);

}  // namespace seam::criteria
