#pragma once
#include <vector>

#include "bindings/stack_loader.hpp"
#include "engine/spec/test_spec.hpp"

namespace seam {

// Runs STACK_DIR/tests/*.lua (sorted) in the stack's sandbox, where
//
//     test "late refund fails the lag rule" {
//       set = { lag_minutes = 30 },             -- optional param values
//       as_of = "2026-03-24T18:00:00Z",         -- optional
//       records = { storefront = { { ["Refund ID"] = "R1", ... } }, erp = { ... } },
//       expect = { { "R1", "lag at -> posted_at", "fail", delta = "105 min" } },
//     }
//
// declares a test. Throws UserError with file:line for a malformed declaration.
std::vector<TestCase> load_stack_tests(LoadedStack& stack);

}  // namespace seam
