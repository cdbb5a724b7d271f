#pragma once
// Chains across systems: a storefront refund confirmed by the processor and booked in the
// ERP is two reconciliations (storefront -> processor, processor -> ERP), but one story. A
// reconciliation declaring `chain = "<the earlier hop>"` continues from that hop's right
// system: each of its groups whose left records the earlier hop matched to a head record is
// known by the head's key, so its verdicts and exceptions carry the storefront refund's key
// and `seam trace R1005` shows every hop. Groups the earlier hop saw without a head keep
// their own key. Chains may be longer than two hops: each hop inherits the head's key.
//
// The head hop usually matches on something else than the head's own id (the storefront
// refund's processor authorization): `key_by = "left"` keys its groups by their first left
// record's id instead, so the chain's key is the storefront refund id.
#include <string_view>
#include <vector>

#include "engine/match/matcher.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// Throws UserError (the reconcile's file:line) when a chain names no earlier
// reconciliation, or one whose right system is not this one's left system.
void validate_chains(const StackSpec& spec);

// The head keys handed from one hop to the next during a run. Not thread-safe.
class ChainKeys {
 public:
  explicit ChainKeys(const StackSpec& spec);
  // Before reconciliation `rn` is evaluated: re-keys its groups with a left record by that
  // record's id (key_by = "left"), then by the head of their first left record when the hop
  // it chains from matched that record to one.
  // A group whose wanted key another group of the reconciliation holds is known by both
  // ("R1 / P2"): a key names one group.
  void rekey(size_t rn, MatchResult& m, const RecordSet& left);
  // After reconciliation `rn` is matched and keyed: remembers the key each of its right
  // records ended in (a group with a left record), when a later hop chains from it.
  void remember(size_t rn, const MatchResult& m, size_t right_records);

 private:
  std::vector<char> by_left_;                             // key_by = "left"
  std::vector<int> from_;                                 // the hop each reconciliation chains from, or -1
  std::vector<char> needed_;                              // a later hop chains from it
  std::vector<std::vector<std::string_view>> head_of_right_;  // per reconciliation, per right record
  StringArena keys_;
};

}  // namespace seam
