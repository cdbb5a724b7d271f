#pragma once
// `seam replay`: the impact of a stack or threshold change, before go-live. A past run's
// inputs (the same bytes, checked against the digests the run recorded) are evaluated
// again with the current stack and changed params, and compared verdict by verdict with
// what the run recorded. Nothing is written: the audit log is opened read-only.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/rules/verdict.hpp"

namespace seam {

struct ReplayOptions {
  std::string stack_path, db_path;  // db_path empty: seam.db in the stack folder
  int64_t run_id = 0;               // 0: the latest complete run
  std::vector<std::pair<std::string, std::string>> sets;
  std::string params_file;          // applied over the run's recorded values
  bool progress = false;            // a progress line on stderr (a terminal), as `seam run` has
};

struct Flip {
  std::string reconcile, key, rule;
  std::string old_outcome, new_outcome;  // "" when the verdict did not exist on that side
  std::string old_delta, new_delta, new_message;
};

struct ReplayReport {
  int64_t run_id = 0;
  std::string as_of, db_path;
  bool stack_changed = false;
  std::vector<std::pair<std::string, std::string>> param_changes;  // name → "old -> new"
  std::vector<Flip> newly_failing, newly_passing, changed;
  // money per rule and in total, per currency: rule → "currency" → minor units of |delta|
  std::map<std::string, std::map<std::string, int64_t>> money_failing, money_passing;
  bool any() const { return !newly_failing.empty() || !newly_passing.empty() || !changed.empty(); }
};

// Throws UserError when the run does not exist, an input file is missing or changed, or
// the current stack has a system the run did not read.
ReplayReport replay_run(const ReplayOptions& options);
std::string render_replay_text(const ReplayReport& r);
std::string render_replay_json(const ReplayReport& r);

}  // namespace seam
