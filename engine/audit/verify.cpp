#include "engine/audit/verify.hpp"

#include "engine/audit/audit_log.hpp"

namespace seam {

VerifyReport verify_audit_log(Db& db) {
  VerifyReport report;
  Statement runs(db, "SELECT id, status, rejects_digest, verdicts_digest, prev_seal, seal FROM runs ORDER BY id");
  // The groups view's blocks read with seam_json_text, not ->>: logs written before group
  // keys holding NUL bytes went to group_rows have them in blocks (see audit/db.cpp).
  Statement groups(db,
                   "SELECT group_no, reconcile_no, group_key, left_ids, right_ids, outcomes FROM group_rows WHERE run_id = ?1 "
                   "UNION ALL SELECT b.first_group_no + j.key, j.value ->> 0, seam_json_text(j.value -> 1), "
                   "seam_json_text(j.value -> 2), seam_json_text(j.value -> 3), seam_json_text(j.value -> 4) "
                   "FROM group_blocks b, json_each(b.groups) j WHERE b.run_id = ?1 ORDER BY 1");
  Statement details(db,
                    "SELECT group_no, position, expected, actual, delta, message FROM verdict_details "
                    "WHERE run_id = ?1 ORDER BY group_no, position");
  Statement rejects(db, "SELECT seq, system, path, line, reason, raw FROM rejects WHERE run_id = ?1 ORDER BY seq");
  std::string previous_seal;
  while (runs.step()) {
    RunCheck check;
    check.run_id = runs.int_at(0);
    check.status = runs.text_at(1);
    if (check.status != "complete") {
      report.runs.push_back(check);
      continue;
    }
    std::string stored_rejects = runs.text_at(2), stored_verdicts = runs.text_at(3);
    std::string stored_prev = runs.text_at(4), stored_seal = runs.text_at(5);

    RunDigest digest;
    rejects.bind(1, check.run_id);
    while (rejects.step())
      digest.reject(rejects.int_at(0), rejects.text_at(1), rejects.text_at(2), rejects.int_at(3), rejects.text_at(4),
                    rejects.text_at(5));
    rejects.reset();
    // Walk groups and their details together, in the order the writer hashed them.
    groups.bind(1, check.run_id);
    details.bind(1, check.run_id);
    bool have_detail = details.step();
    int64_t detail_rows = 0, consumed = 0;
    while (groups.step()) {
      int64_t g = groups.int_at(0);
      digest.group(g, groups.int_at(1), groups.text_at(2), groups.text_at(3), groups.text_at(4), groups.text_at(5));
      while (have_detail && details.int_at(0) <= g) {
        ++detail_rows;
        if (details.int_at(0) == g) {
          ++consumed;
          digest.detail(details.int_at(1), details.text_at(2), details.text_at(3), details.text_at(4), details.text_at(5));
        }
        have_detail = details.step();
      }
    }
    while (have_detail) {
      ++detail_rows;
      have_detail = details.step();
    }
    groups.reset();
    details.reset();

    std::string rejects_digest = digest.rejects_hex(), verdicts_digest = digest.verdicts_hex();
    if (consumed != detail_rows) {
      check.ok = false;
      check.problem = std::to_string(detail_rows - consumed) + " verdict detail rows belong to no group";
    } else if (verdicts_digest != stored_verdicts) {
      check.ok = false;
      check.problem = "verdict rows do not match the sealed verdicts digest (a verdict was changed, added or removed)";
    } else if (rejects_digest != stored_rejects) {
      check.ok = false;
      check.problem = "reject rows do not match the sealed rejects digest";
    } else if (stored_prev != previous_seal) {
      check.ok = false;
      check.problem = "the run's previous seal does not match the preceding complete run (a run was removed or altered)";
    } else if (compute_seal(db, check.run_id, stored_prev, rejects_digest, verdicts_digest) != stored_seal) {
      check.ok = false;
      check.problem = "the run's header, params, inputs or rule catalog do not match its seal";
    }
    previous_seal = stored_seal;
    report.runs.push_back(check);
  }
  report.head_seal = previous_seal;
  return report;
}

}  // namespace seam
