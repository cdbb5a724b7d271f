#pragma once
// What decides the keys a reconciliation's groups are known by, as canonical text: its
// systems and their id fields (a record no keyed strategy places is known by its id), each
// keyed strategy's key fields and normalisation in order, key_by, and the chained
// reconciliation's own keys. Keyless strategies and their tolerances are left out: they
// pair records differently, but a pair is known by its left record's key or id either way.
// Recorded with each run (run_match_keys): an exception whose last failing run recorded
// other text has a key that is no longer a key of this reconciliation.
#include <string>

#include "engine/spec/stack_spec.hpp"

namespace seam {

// `reconcile_no` indexes spec.reconciles.
std::string match_keys_definition(const StackSpec& spec, size_t reconcile_no);

}  // namespace seam
