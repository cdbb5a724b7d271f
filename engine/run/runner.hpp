#pragma once
// A run: load the stack, resolve params, map every input, match each reconciliation,
// evaluate every rule on every group, and append it all to the audit log, sealed.
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/stack_loader.hpp"
#include "engine/alerts/alerts.hpp"
#include "engine/audit/audit_log.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/mapping/records.hpp"
#include "engine/match/matcher.hpp"
#include "engine/run/data_check.hpp"
#include "engine/run/profile.hpp"
#include "engine/run/progress.hpp"
#include "engine/rules/findings.hpp"
#include "engine/rules/verdict.hpp"
#include "engine/spec/stack_spec.hpp"
#include "engine/value/time.hpp"

namespace seam {

// --since/--until: only groups whose record time (the system of record's earliest
// record_time, else the other side's) falls in [since, until) are evaluated. Windowing
// groups rather than records keeps a refund inside the window matched with an ERP entry
// posted just after it.
struct RunWindow {
  std::optional<TimeUs> since, until;
  bool active() const { return since || until; }
  bool contains(TimeUs t) const { return (!since || t >= *since) && (!until || t < *until); }
};

// How many threads a run may use. Inputs that can be split (NDJSON, CSV) are mapped in parts,
// Lua mapping functions and Lua rules included (each thread with a Lua state of its own);
// the rest of evaluation and every write stay on one thread, in group order, so the audit
// log and its seal are the same whatever the count.
struct Parallelism {
  size_t threads = 0;                       // 0: SEAM_THREADS from the environment, else the machine's cores (2 or more)
  size_t min_part_bytes = size_t{4} << 20;  // an input is split in parts no smaller than this
  size_t groups_per_part = 8192;            // Lua rules: the groups one thread evaluates at a time (~4 ms of Lua)
};
// The thread count `p` means. Throws UserError when SEAM_THREADS is not a whole number of 1 or more.
size_t thread_count(const Parallelism& p);

struct RunOptions {
  std::string stack_path;
  std::string db_path;  // empty: seam.db in the stack folder
  std::vector<std::pair<std::string, std::string>> sets;
  std::string params_file;  // empty: the stack folder's thresholds.lua, when there is one
  std::optional<TimeUs> as_of;  // empty: the latest time found in the inputs
  bool progress = false;        // a progress line on stderr (a terminal) once a run passes one second
  RunWindow window;
  bool profile = false;         // time each mapping, match, rule, the writes and the seal
  bool allow_other_stack = false;  // write into a log that holds another stack's runs
  Parallelism parallel;
};

struct RunReport {
  int64_t run_id = 0;
  std::string stack_name, db_path, seal, as_of, started_at;
  std::map<std::string, ParamValue> params;
  std::vector<InputStats> inputs;
  std::vector<Reject> rejects;
  std::vector<ReconcileReport> reconciles;
  RunCounts counts;
  ExceptionChanges exceptions;  // what this run did to the durable exceptions
  std::vector<AlertDelivery> alerts;
  std::optional<RunProfile> profile;  // with RunOptions::profile
  // 0 nothing to look at, 1 exceptions (fail or error verdicts, or rejected rows).
  int exit_code() const;
};

// Throws UserError for configuration and input problems (exit code 2).
RunReport run_stack(const RunOptions& options);

// A loaded, validated stack with its params in effect (and published to Lua rules).
struct PreparedStack {
  LoadedStack loaded;
  ParamValues params;
};
PreparedStack prepare_stack(const std::string& stack_path, const std::vector<std::pair<std::string, std::string>>& sets,
                            const std::string& params_file);

// Where evaluated groups go: the audit log for `run`, memory for `test` and `replay`.
class GroupSink {
 public:
  virtual ~GroupSink() = default;
  virtual void begin_reconcile(size_t reconcile_no, const ReconcileSpec& rec) {}
  // Whether the groups are written somewhere lasting (the progress line says so).
  virtual bool writes() const { return false; }
  // Verdicts in rule order; `origin` says how the group was formed and `matched_by` says it
  // for people (nullptr and empty when the reconciliation has a single keyed strategy). The
  // views are valid during the call only.
  virtual void group(size_t reconcile_no, std::string_view key, std::string_view left_ids, std::string_view right_ids,
                     const std::vector<Verdict>& verdicts, const GroupOrigin* origin, std::string_view matched_by) = 0;
};

// Reads every system's input, in parallel, in declaration order. Lua mapping functions
// run on hosts borrowed from `scripts` (a pool of `host` and its replicas is made when it
// is null).
// With `profile`, records each system's mapping time and rows read.
// With `progress`, it shows the rows read so far.
std::vector<MappedInput> map_all(const StackSpec& spec, ScriptHost* host, RunProfile* profile = nullptr,
                                 const Parallelism& parallel = {}, ScriptPool* scripts = nullptr,
                                 Progress* progress = nullptr);
// Matches and evaluates every reconciliation, handing each group to `sink`, in group
// order, on this thread. Lua rules of a reconciliation with more groups than one part
// are evaluated ahead, part by part, on other threads (hosts from `scripts`, or a pool
// made here); the verdicts reach the sink as one thread would give them.
// With `profile`, records the time of each match, each rule and the sink's calls; with
// `progress`, shows each match and how many groups were evaluated and written.
std::vector<ReconcileReport> evaluate_reconciles(const StackSpec& spec, const ParamValues& params, ScriptHost* host,
                                                 const std::vector<MappedInput>& inputs, TimeUs as_of, GroupSink& sink,
                                                 Progress* progress, const RunWindow& window = {},
                                                 RunProfile* profile = nullptr, const Parallelism& parallel = {},
                                                 ScriptPool* scripts = nullptr);
// Checks everything that can be wrong before data is read (fields, keys, zones, rules with
// these params) and marks ids and keys required. Throws UserError with file:line.
void validate_stack(StackSpec& spec, const ParamValues& params);
// The latest time found in the inputs, else now.
TimeUs default_as_of(const std::vector<MappedInput>& inputs);

// Checks everything that can be checked without data: throws UserError with file:line.
struct CheckReport {
  std::string stack_name;
  size_t params = 0, systems = 0, reconciles = 0, rules = 0;
  std::vector<Warning> warnings;
  std::vector<DataError> errors;       // found in the data (with_data): the stack cannot work on it
  std::vector<SampleSummary> samples;  // what each input's sample holds (with_data)
};
// With `with_data`, also reads the first `sample_rows` rows of each input (0: all) and
// checks what only data can show (engine/run/data_check.hpp).
CheckReport check_stack(const std::string& stack_path, const std::vector<std::pair<std::string, std::string>>& sets,
                        const std::string& params_file = "", bool with_data = false, uint64_t sample_rows = 1000);

// The run's param values: defaults < thresholds file (params_file, else the stack folder's
// thresholds.lua when present) < --set.
ParamValues resolve_params(const StackSpec& spec, const std::vector<std::pair<std::string, std::string>>& sets,
                           const std::string& params_file);

std::string default_db_path(const StackSpec& spec);

}  // namespace seam
