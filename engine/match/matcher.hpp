#pragma once
// Matching: a hash join of two record sets on their declared keys. Every record lands in
// exactly one group; records with no counterpart form one-sided groups. Groups come out
// in a deterministic order: by first appearance on the left, then right-only groups in
// right source order.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/records.hpp"

namespace seam {

struct MatchGroup {
  std::string_view key;
  uint32_t left_begin = 0, left_count = 0;
  uint32_t right_begin = 0, right_count = 0;
};

// How a group was formed, when its reconciliation declares several strategies or keyless
// ones: the strategy (its index), and how close the records were.
struct GroupOrigin {
  int strategy = -1;  // -1: no strategy matched (a one-sided group)
  bool keyless = false;
  int64_t amount_delta = 0;  // right - left, minor units (keyless, with an amount criterion)
  int64_t time_delta = 0;    // right - left: µs, or calendar days (keyless, with a time criterion)
  int similarity = -1;       // permille (keyless, with a reference criterion)
  uint32_t summed = 0;       // records added up by a sum strategy (sums.hpp); 0 otherwise
  int note = -1;             // index into MatchResult::notes: why nothing matched (a bounded search)
};

class MatchResult {
 public:
  std::vector<MatchGroup> groups;
  std::vector<GroupOrigin> origins;  // one per group; empty for a single keyed strategy
  std::vector<std::string> notes;    // what GroupOrigin::note points at
  // "the sum search of match strategy 'x' stopped at ...", or nullptr.
  const std::string* note_of(const MatchGroup& g) const {
    if (origins.empty()) return nullptr;
    int n = origins[static_cast<size_t>(&g - groups.data())].note;
    return n < 0 ? nullptr : &notes[static_cast<size_t>(n)];
  }
  std::vector<uint32_t> left_rows, right_rows;  // record indices, grouped
  StringArena keys;                             // composite and non-text keys
  // One flag per group when any group was paired (pairing.hpp), else empty: kPaired when
  // left_of(g)[i] and right_of(g)[i] are the i-th best-fit pair, kPairedInOrder when the
  // group was too large for best fit and pairs in input order.
  std::vector<uint8_t> paired;
  static constexpr uint8_t kPaired = 1, kPairedInOrder = 2;
  uint8_t pairing(const MatchGroup& g) const {
    return paired.empty() ? 0 : paired[static_cast<size_t>(&g - groups.data())];
  }
  bool is_paired(const MatchGroup& g) const { return pairing(g) != 0; }

  std::span<const uint32_t> left_of(const MatchGroup& g) const {
    return {left_rows.data() + g.left_begin, g.left_count};
  }
  std::span<const uint32_t> right_of(const MatchGroup& g) const {
    return {right_rows.data() + g.right_begin, g.right_count};
  }
};

// Key fields must exist in each system (the stack loader checks); keys are compared as
// exact text, composite keys joined with " | ". `threads` > 1 joins large inputs keyed by
// one text field on that many threads; the result is the same as on one.
MatchResult match(const RecordSet& left, const std::vector<int>& left_key, const RecordSet& right,
                  const std::vector<int>& right_key, size_t threads = 1);

}  // namespace seam
