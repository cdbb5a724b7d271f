#include "engine/audit/run_digest.hpp"

namespace seam {

void RunDigest::group(int64_t group_no, int64_t reconcile_no, std::string_view key, std::string_view left_ids,
                      std::string_view right_ids, std::string_view outcomes) {
  verdicts_.field(group_no);
  verdicts_.field(reconcile_no);
  verdicts_.field(key);
  verdicts_.field(left_ids);
  verdicts_.field(right_ids);
  verdicts_.field(outcomes);
}

void RunDigest::origin(int64_t strategy, bool keyless, int64_t amount_delta, int64_t time_delta, int64_t similarity,
                       std::string_view matched_by) {
  verdicts_.field(strategy);
  if (keyless) {
    verdicts_.field(amount_delta);
    verdicts_.field(time_delta);
    verdicts_.field(similarity);
  }
  verdicts_.field(matched_by);
}

void RunDigest::detail(int64_t position, std::string_view expected, std::string_view actual, std::string_view delta,
                       std::string_view message) {
  verdicts_.field(position);
  verdicts_.field(expected);
  verdicts_.field(actual);
  verdicts_.field(delta);
  verdicts_.field(message);
}

void RunDigest::reject(int64_t seq, std::string_view system, std::string_view path, int64_t line,
                       std::string_view reason, std::string_view raw) {
  rejects_.field(seq);
  rejects_.field(system);
  rejects_.field(path);
  rejects_.field(line);
  rejects_.field(reason);
  rejects_.field(raw);
}

StoredRunDigests digest_stored_run(Db& db, int64_t run_id) {
  // Blocks are read with seam_json_text, not ->> as the groups view does: SQLite's ->> ends a
  // string at an escaped NUL, and logs written before such groups went to group_rows hold
  // them in blocks (audit/db.cpp).
  Statement groups(db,
                   "SELECT group_no, reconcile_no, group_key, left_ids, right_ids, outcomes, strategy_no, amount_delta, "
                   "time_delta, similarity, matched_by FROM group_rows WHERE run_id = ?1 "
                   "UNION ALL SELECT b.first_group_no + j.key, j.value ->> 0, seam_json_text(j.value -> 1), "
                   "seam_json_text(j.value -> 2), seam_json_text(j.value -> 3), seam_json_text(j.value -> 4), "
                   "j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, seam_json_text(j.value -> 9) "
                   "FROM group_blocks b, json_each(b.groups) j WHERE b.run_id = ?1 ORDER BY 1");
  Statement details(db,
                    "SELECT group_no, position, expected, actual, delta, message FROM verdict_details "
                    "WHERE run_id = ?1 ORDER BY group_no, position");
  Statement rejects(db, "SELECT seq, system, path, line, reason, raw FROM rejects WHERE run_id = ?1 ORDER BY seq");
  RunDigest digest;
  rejects.bind(1, run_id);
  while (rejects.step())
    digest.reject(rejects.int_at(0), rejects.bytes_at(1), rejects.bytes_at(2), rejects.int_at(3), rejects.bytes_at(4),
                  rejects.bytes_at(5));
  // Walk groups and their details together, in the order the writer hashed them.
  groups.bind(1, run_id);
  details.bind(1, run_id);
  bool have_detail = details.step();
  int64_t detail_rows = 0, consumed = 0;
  while (groups.step()) {
    int64_t g = groups.int_at(0);
    digest.group(g, groups.int_at(1), groups.bytes_at(2), groups.bytes_at(3), groups.bytes_at(4), groups.bytes_at(5));
    if (!groups.is_null(6))
      digest.origin(groups.int_at(6), !groups.is_null(7), groups.int_at(7), groups.int_at(8), groups.int_at(9),
                    groups.bytes_at(10));
    while (have_detail && details.int_at(0) <= g) {
      ++detail_rows;
      if (details.int_at(0) == g) {
        ++consumed;
        digest.detail(details.int_at(1), details.bytes_at(2), details.bytes_at(3), details.bytes_at(4),
                      details.bytes_at(5));
      }
      have_detail = details.step();
    }
  }
  while (have_detail) {
    ++detail_rows;
    have_detail = details.step();
  }
  return {digest.rejects_hex(), digest.verdicts_hex(), detail_rows - consumed};
}

}  // namespace seam
