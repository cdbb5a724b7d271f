#pragma once
// What evaluating a reconciliation's rules over its groups leaves for the layers after it:
// each verdict worth a person's attention (a finding), with what the group was about, and
// the reconciliation's counts. The audit log's exceptions and the reports read these.
#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "engine/rules/verdict.hpp"
#include "engine/spec/stack_spec.hpp"
#include "engine/value/money.hpp"
#include "engine/value/time.hpp"

namespace seam {

// A verdict worth a person's attention: anything but pass and skip.
struct Finding {
  std::string key, rule, rule_source, left_ids, right_ids;
  Outcome outcome;
  Severity severity;
  Verdict verdict;
  // What the group is about, for periods and totals: its record time (INT64_MIN when the
  // systems declare no record_time) and each side's amount (currency 0 when no amount
  // field is known or the side mixes currencies).
  TimeUs at = INT64_MIN;
  int64_t left_amount = 0, right_amount = 0;
  CurrencyCode currency = 0;
  // The rule's declared causes, each with the keys of its reconciliation this group names.
  struct Cause {
    std::string reconcile, rule;  // rule empty: any rule of that reconciliation
    std::vector<std::string> keys;
    std::string explains;  // same_sign, opposite_sign or any (engine/run/causes.hpp)
  };
  std::vector<Cause> causes{};
};

struct ReconcileReport {
  std::string name, left, right, system_of_record;
  uint64_t groups = 0;
  uint64_t outside_window = 0;  // groups a windowed run left out
  std::array<uint64_t, kOutcomeCount> outcomes{};
  // A deque: at a million groups there are a hundred thousand findings, and a vector
  // moved every one of them each time it grew.
  std::deque<Finding> findings;
};

}  // namespace seam
