#pragma once
// `seam run --profile`: where a run's time went, measured with steady_clock and printed on
// stderr after the run. Nothing of it reaches the audit log; when profiling is off, rule
// evaluation reads no clock at all.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace seam {

using ProfileClock = std::chrono::steady_clock;

inline int64_t elapsed_ns(ProfileClock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(ProfileClock::now() - since).count();
}

// Time and calls per rule of one reconciliation, kept by one evaluating thread (no
// locking); the tallies of several threads are added together, so a rule's time is the
// time spent in it on every thread, not wall time.
struct RuleTally {
  std::vector<int64_t> ns;
  std::vector<uint64_t> calls;
  explicit RuleTally(size_t rules = 0) : ns(rules, 0), calls(rules, 0) {}
  void add(size_t rule, int64_t spent) {
    ns[rule] += spent;
    ++calls[rule];
  }
  void merge(const RuleTally& other);
};

struct RunProfile {
  struct Mapping {
    std::string system;
    int64_t ns = 0;  // wall time of reading and mapping the input (systems are mapped side by side)
    uint64_t rows = 0;
  };
  struct Match {
    std::string reconcile;
    int64_t ns = 0;  // planning, matching and the nearest-candidate index
  };
  struct Rule {
    std::string reconcile, rule;
    int64_t ns = 0;
    uint64_t calls = 0;
  };
  std::vector<Mapping> mappings;
  std::vector<Match> matches;
  std::vector<Rule> rules;
  int64_t write_ns = 0;  // handing groups to the audit writer, waits for it included
  int64_t seal_ns = 0;   // the last writes, the exceptions and the seal
  void add_rules(const std::string& reconcile, const std::vector<std::string>& names, const RuleTally& tally);
  // One line per system, reconciliation and rule, then write and seal:
  // "profile: map erp: 1.250 ms wall, 16 rows, 12800 rows/s".
  std::string render() const;
};

}  // namespace seam
