#include "engine/audit/verify.hpp"

#include "engine/audit/audit_log.hpp"
#include "engine/audit/chain.hpp"
#include "engine/audit/run_digest.hpp"

namespace seam {
namespace {

void check_runs(Db& db, VerifyReport& report) {
  Statement runs(db,
                 "SELECT id, status, coalesce(rejects_digest, ''), coalesce(verdicts_digest, ''), "
                 "coalesce(prev_seal, ''), coalesce(seal, '') FROM runs ORDER BY id");
  std::string previous_seal;
  while (runs.step()) {
    RunCheck check;
    check.run_id = runs.int_at(0);
    check.status = runs.text_at(1);
    std::string stored_rejects = runs.text_at(2), stored_verdicts = runs.text_at(3);
    std::string stored_prev = runs.text_at(4), stored_seal = runs.text_at(5);
    bool complete = check.status == "complete";
    check.digested = complete || (check.status != "running" && !stored_verdicts.empty());
    if (!check.digested) {
      report.runs.push_back(check);
      continue;
    }
    StoredRunDigests d = digest_stored_run(db, check.run_id);
    if (d.orphan_details) {
      check.ok = false;
      check.problem = std::to_string(d.orphan_details) + " verdict detail rows belong to no group";
    } else if (d.verdicts != stored_verdicts) {
      check.ok = false;
      check.problem = "verdict rows do not match the sealed verdicts digest (a verdict was changed, added or removed)";
    } else if (d.rejects != stored_rejects) {
      check.ok = false;
      check.problem = "reject rows do not match the sealed rejects digest";
    } else if (complete && stored_prev != previous_seal) {
      check.ok = false;
      check.problem = "the run's previous seal does not match the preceding complete run (a run was removed or altered)";
    } else if (complete && compute_seal(db, check.run_id, stored_prev, d.rejects, d.verdicts) != stored_seal) {
      check.ok = false;
      check.problem = "the run's header, params, inputs or rule catalog do not match its seal";
    }
    if (complete) previous_seal = stored_seal;
    report.runs.push_back(check);
  }
  report.head_seal = previous_seal;
}

// Rows under a run id the runs table does not have are in no run's digest: an insertion.
void check_orphans(Db& db, VerifyReport& report) {
  for (const char* table : {"group_blocks", "group_rows", "verdict_details", "rejects", "run_params", "run_inputs",
                            "run_input_files",
                            "run_reconciles", "run_rules", "run_strategies", "run_match_keys", "alert_deliveries"}) {
    Statement s(db, std::string("SELECT count(*) FROM ") + table + " WHERE run_id NOT IN (SELECT id FROM runs)");
    s.step();
    if (int64_t n = s.int_at(0))
      report.problems.push_back(std::to_string(n) + " " + table + " rows belong to no run");
  }
}

void check_chain(Db& db, VerifyReport& report, const std::optional<std::pair<int64_t, std::string>>& expect_head) {
  std::vector<ChainEntry> chain = read_chain(db);
  std::string prev;
  bool expected_found = false;
  for (size_t i = 0; i < chain.size(); ++i) {
    const ChainEntry& e = chain[i];
    std::string where = "chain entry " + std::to_string(e.seq) + " (" + e.event + ", " + e.subject + ")";
    if (e.seq != static_cast<int64_t>(i) + 1)
      report.problems.push_back(where + " follows entry " + std::to_string(i) + ": entries were removed");
    if (e.prev_digest != prev)
      report.problems.push_back(where + " does not chain to the entry before it (an entry was removed or altered)");
    if (chain_entry_digest(e) != e.digest)
      report.problems.push_back(where + " does not match its digest (its fields were altered)");
    if (expect_head && e.seq == expect_head->first) {
      expected_found = true;
      if (e.digest != expect_head->second)
        report.problems.push_back(where + " is not the expected head " + std::to_string(expect_head->first) + ":" +
                                  expect_head->second + " (the history up to it was rewritten)");
    }
    prev = e.digest;
  }
  if (chain.empty()) {
    report.problems.push_back("the audit chain has no entries (they were deleted)");
    return;
  }
  report.head = chain.back().head();
  if (expect_head && !expected_found)
    report.problems.push_back("the chain ends at entry " + std::to_string(chain.back().seq) +
                              ", before the expected head " + std::to_string(expect_head->first) +
                              ": later entries were removed (the log was truncated or replaced by an older copy)");
  try {
    require_sealed_state(db);
  } catch (const TamperedError& e) {
    // "audit log X was changed outside seam after chain entry N (...): T differ ...": keep
    // the part that says what, without the advice meant for writers.
    std::string what = e.what();
    if (auto cut = what.find(". seam will not write"); cut != std::string::npos) what.resize(cut);
    report.problems.push_back(what);
  }
}

}  // namespace

VerifyReport verify_audit_log(Db& db, const std::optional<std::pair<int64_t, std::string>>& expect_head) {
  VerifyReport report;
  check_runs(db, report);
  check_orphans(db, report);
  check_chain(db, report, expect_head);
  return report;
}

}  // namespace seam
