#pragma once
// The audit log: every run, its parameters and inputs, every reject and every verdict,
// appended to SQLite and sealed. Each complete run's seal is a SHA-256 over its own rows
// and the previous sealed run's seal, so `seam audit verify` can show that nothing was
// altered afterwards; every run that ends (complete, failed, or found killed) also gets an
// entry in the audit chain (chain.hpp), which seals the log's whole mutable state. Writes
// go in transactions of kBatchGroups groups; a killed run leaves a consistent database
// whose run is later marked incomplete.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/run_digest.hpp"
#include "engine/mapping/records.hpp"
#include "engine/match/matcher.hpp"
#include "engine/rules/verdict.hpp"
#include "engine/spec/params.hpp"
#include "engine/spec/stack_spec.hpp"
#include "engine/util/digest.hpp"

namespace seam {

struct RunHeader {
  std::string stack_name, stack_dir, stack_digest, started_at, as_of;
  std::string window_since, window_until;  // empty: not windowed
  bool allow_other_stack = false;           // --allow-other-stack: share a log with another stack's runs
};

struct RunCounts {
  uint64_t groups = 0, rejects = 0;
  std::array<uint64_t, kOutcomeCount> outcomes{};
  uint64_t of(Outcome o) const { return outcomes[static_cast<size_t>(o)]; }
};

// Seal of a run from its stored header, params, inputs, rule versions and the two digests.
std::string compute_seal(Db& db, int64_t run_id, const std::string& prev_seal, const std::string& rejects_digest,
                         const std::string& verdicts_digest);

// Writes a run's rows. Group rows are buffered into owned batches and written by a
// background thread, one transaction per batch, while the caller evaluates the next
// batch; every other call first waits for the writer to go idle, so the connection is
// never used by two threads at once. A writer error is rethrown to the caller at its
// next call. Thread-compatible: one caller thread.
class AuditLog {
 public:
  static constexpr size_t kBatchGroups = 20'000;
  static constexpr size_t kBlockGroups = 1'000;  // groups per group_blocks row

  // Opens or creates the database and migrates it to the current schema.
  explicit AuditLog(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  Db& db() { return db_; }

  // Refuses a log whose state no longer matches its chain (TamperedError), marks runs whose
  // process died as incomplete (each sealed by a chain entry), refuses to start while
  // another run is live, refuses a log holding runs of another stack (AuditError) unless
  // header.allow_other_stack, then inserts and commits a 'running' run. The stack folder is
  // stored as an absolute path.
  int64_t begin_run(const RunHeader& header, const ParamValues& params);
  // The catalog id of a rule version, added on first sight.
  int64_t rule_id(const std::string& stack, const std::string& reconcile, const RuleSpec& rule);
  // `strategies`, when given, are recorded (a reconciliation with several, or keyless ones).
  // `match_keys`: what decides its group keys (match_keys_definition), so a later run can
  // tell its exceptions' keys from other keys; empty records none (nothing is then retired
  // for a change of keys).
  void add_reconcile(int reconcile_no, const std::string& name, const std::string& left, const std::string& right,
                     const std::vector<int64_t>& rule_ids, const std::vector<MatchStrategySpec>* strategies = nullptr,
                     const std::string& match_keys = {});
  // An input that is a file is stored under its absolute, resolved path, so that replay
  // finds it from any folder (rejects keep the path as the run showed it).
  void add_input(const InputStats& stats, const std::vector<Reject>& rejects);
  // One match group and the verdicts of its rules, in rule order. Copies what it keeps.
  // `origin`: how the group was formed (nullptr when its reconciliation records none).
  void add_group(int reconcile_no, std::string_view key, std::string_view left_ids, std::string_view right_ids,
                 const std::vector<Verdict>& verdicts, const GroupOrigin* origin = nullptr,
                 std::string_view matched_by = {});
  // Writes what is pending and seals the run; returns the seal.
  // `with_seal`, when given, runs inside the sealing transaction: what it writes becomes
  // visible together with the sealed run, or not at all.
  std::string complete_run(const std::string& ended_at, const std::function<void(Db&)>& with_seal = {});
  // Writes what is pending and marks the run failed: not sealed as complete, but what it
  // wrote is digested and covered by a chain entry.
  void fail_run(const std::string& ended_at);

  int64_t run_id() const { return run_id_; }
  const RunCounts& counts() const { return counts_; }

 private:
  struct Batch;
  class Writer;
  void submit_batch();
  void write_batch(const Batch& batch);  // on the writer thread

  Db db_;
  int64_t run_id_ = 0;
  int64_t group_no_ = 0, reject_seq_ = 0;
  RunCounts counts_;
  RunDigest digest_;  // fed by add_group, in group order
  // PRAGMA data_version when begin_run checked the state: unchanged at the end means no
  // other connection wrote in between, so the check need not be repeated.
  int64_t checked_data_version_ = -1;
  std::unique_ptr<Batch> batch_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<Statement> insert_block_, insert_detail_, insert_reject_;
};

}  // namespace seam
