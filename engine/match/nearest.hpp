#pragma once
// For a record with no counterpart, the usual cause is a key typo or a reference written
// differently on the other side. NearestFinder names the most likely counterpart among
// the other side's unmatched records: same amount at a close time, or a key one edit
// away (an adjacent swap counts as one) at a close time. Indexes are built once, over unmatched records only, so the cost stays
// proportional to the exceptions, not to the input.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/match/matcher.hpp"

namespace seam {

struct NearestFields {
  int left_amount = -1, right_amount = -1;  // money fields compared by an amount rule
  int left_time = -1, right_time = -1;      // time fields compared by a lag rule
  int64_t window_us = 24LL * 3600 * 1'000'000;
};

class NearestFinder {
 public:
  // `threads` > 1: the two sides' indexes are built at once (each is a pass over every
  // group and a sort of its one-sided keys' variants; at 5M, 0.45 s on one core).
  NearestFinder(const MatchResult& m, const RecordSet& left, const RecordSet& right, NearestFields fields,
                size_t threads = 1);
  // "CR-5011 (key R1070, same amount 45.00 USD, 12 min later)", or empty when nothing is close.
  std::string describe(const MatchGroup& g) const;

 private:
  // Flat, sorted (hash, group) pairs: no allocation per entry. Every candidate found through
  // a hash is verified (amount compared, edit distance computed), so collisions are harmless.
  // A directory on the hash's top bits narrows each look-up to a few entries: a binary
  // search over the whole array cost a cache miss per step, nine look-ups per missing key.
  struct HashIndex {
    std::vector<std::pair<uint64_t, uint32_t>> entries;
    std::vector<uint32_t> starts;  // entries whose top `bits` bits are b: [starts[b], starts[b + 1])
    int bits = 0;
    void add(uint64_t hash, uint32_t group) { entries.emplace_back(hash, group); }
    void seal();  // sorts, drops duplicates, builds the directory
    template <typename F>
    void for_each(uint64_t hash, F f) const;
  };
  struct SideIndex {
    HashIndex by_amount;   // hash of (minor units, currency) → group
    HashIndex by_variant;  // hash of the key and of each 1-deletion of it → group
  };
  void index_side(bool left_only, SideIndex& idx);
  std::string describe_against(const MatchGroup& g, bool from_left) const;

  const MatchResult& m_;
  const RecordSet& left_;
  const RecordSet& right_;
  NearestFields f_;
  SideIndex left_only_, right_only_;
};

}  // namespace seam
