#pragma once
// A consultant's test beside a stack: fixture rows per system (raw columns, so the
// system's real mapping runs) and the verdicts expected from them.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/spec/stack_spec.hpp"

namespace seam {

using FixtureRow = std::map<std::string, std::string>;  // column or path → text

struct Expectation {
  std::string reconcile;  // empty: any reconciliation
  std::string key, rule, outcome;
  std::optional<std::string> expected, actual, delta;
  std::optional<std::string> message;  // must appear in the verdict's message
  SourceLoc loc;
};

struct TestCase {
  std::string name;
  SourceLoc loc;
  std::vector<std::pair<std::string, std::string>> sets;  // param values for this test
  std::optional<std::string> as_of;                       // ISO 8601; default: latest time in the fixtures
  std::map<std::string, std::vector<FixtureRow>> records;  // system → rows
  std::vector<Expectation> expect;
};

}  // namespace seam
