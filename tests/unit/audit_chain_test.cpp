// The audit chain's pieces: the state digest, what it leaves out while a run is live, a
// killed run's rows sealed when it is found, the upgrade of an older log, and heads.
#include <doctest/doctest.h>

#include "engine/audit/audit_log.hpp"
#include "engine/audit/chain.hpp"
#include "engine/audit/schema.hpp"
#include "engine/audit/verify.hpp"
#include "engine/spec/stack_spec.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;

namespace {

std::string text(Db& db, const std::string& sql) {
  Statement s(db, sql);
  REQUIRE(s.step());
  return s.text_at(0);
}

RuleSpec rule(const char* name, const char* version) {
  RuleSpec r;
  r.name = name;
  r.kind = RuleKind::ExistsIn;
  r.version = version;
  return r;
}

// A run with one group, left live (not completed) unless `complete`.
void write_run(AuditLog& log, bool complete, const char* rule_version = "v1") {
  StackSpec stack;
  log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""},
                ParamValues::resolve(stack, {}));
  log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", rule("exists", rule_version))});
  log.add_input({"left", "l.csv", "abc", 2, 1, 1}, {{"left", "l.csv", 3, "bad amount", "x,y"}});
  log.add_group(0, "K1", "L1", "R1", {Verdict::make(Outcome::Fail, "missing", "1", "", "-5.00 USD")});
  if (complete) log.complete_run("2026-03-24T18:00:01Z");
}

}  // namespace

TEST_CASE("audit chain: the state digest tells NULL from empty text, and changes with any column of any state table") {
  TempDir dir;
  {
    AuditLog log(dir / "a.db");
    write_run(log, true);
  }
  Db db(dir / "a.db", false);
  StateDigest before = compute_state_digest(db);
  CHECK(before.tables.size() == 11);
  CHECK(before.tables_json().rfind("{\"runs\":\"", 0) == 0);
  CHECK_NOTHROW(require_sealed_state(db));
  db.exec("UPDATE rules SET doc = '' WHERE doc = ''");  // no change at all: same digest
  CHECK(compute_state_digest(db).digest == before.digest);
  db.exec("DROP TRIGGER runs_sealed");
  db.exec("UPDATE runs SET window_since = '' WHERE id = 1");  // NULL became ''
  StateDigest after = compute_state_digest(db);
  CHECK(after.digest != before.digest);
  CHECK(after.tables[0].second != before.tables[0].second);  // runs
  for (size_t i = 1; i < after.tables.size(); ++i) CHECK(after.tables[i].second == before.tables[i].second);
  CHECK_THROWS_WITH_AS(require_sealed_state(db),
                       doctest::Contains("was changed outside seam after chain entry 2 (run complete, run 1, "
                                         "2026-03-24T18:00:01Z): runs differ from what it sealed"),
                       TamperedError);
}

TEST_CASE("audit chain: a live run's rows and the rules it added stay out of the state until its entry") {
  TempDir dir;
  {
    AuditLog first(dir / "a.db");
    write_run(first, true);
  }
  AuditLog live(dir / "a.db");
  write_run(live, false, "v2");  // a new rule version joins the catalog while the run is live
  Db other(dir / "a.db", false);
  CHECK_NOTHROW(require_sealed_state(other));  // another connection sees nothing unsealed
  CHECK(verify_audit_log(other).ok());
  live.complete_run("2026-03-24T18:00:02Z");
  CHECK(text(other, "SELECT max(seq) || ' ' || event || ' ' || subject FROM chain") == "3 run complete run 2");
  CHECK(text(other, "SELECT added_by_run FROM rules WHERE version = 'v2'") == "2");
  CHECK_NOTHROW(require_sealed_state(other));
  VerifyReport r = verify_audit_log(other);
  CHECK(r.ok());
  CHECK(r.head.rfind("3:", 0) == 0);
}

TEST_CASE("audit chain: a killed run's rows are digested when the next run finds it, so a later edit of them shows") {
  TempDir dir;
  {
    AuditLog killed(dir / "a.db");
    write_run(killed, false);
  }  // the writer drained; the run stays 'running' as if its process died
  {
    Db db(dir / "a.db", false);
    db.exec("UPDATE runs SET pid = 4194305 WHERE id = 1");  // above Linux's default pid_max: no such process
  }
  {
    AuditLog next(dir / "a.db");
    write_run(next, true);
  }
  Db db(dir / "a.db", false);
  CHECK(text(db, "SELECT status || ' ' || length(verdicts_digest) || ' ' || ended_at FROM runs WHERE id = 1") ==
        "incomplete 64 2026-03-24T18:00:00Z");
  CHECK(text(db, "SELECT event || ': ' || note FROM chain WHERE subject = 'run 1'")
            .rfind("run incomplete: its process (pid 4194305 on ", 0) == 0);
  VerifyReport clean = verify_audit_log(db);
  REQUIRE(clean.runs.size() == 2);
  CHECK(clean.ok());
  CHECK(clean.runs[0].digested);
  db.exec("DROP TRIGGER rejects_no_update");
  db.exec("UPDATE rejects SET reason = 'fine' WHERE run_id = 1");
  VerifyReport edited = verify_audit_log(db);
  CHECK_FALSE(edited.ok());
  CHECK(edited.runs[0].problem == "reject rows do not match the sealed rejects digest");
}

TEST_CASE("audit chain: a version 4 log is upgraded with a first entry sealing the state it was found in") {
  TempDir dir;
  {
    Db db(dir / "a.db", true);
    migrate_audit_schema(db, 4);
    db.exec("INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
            "VALUES ('old', 'dir', 'd', '0.1.0', 't', 't', 'failed', 1, 'h')");
  }
  Db db(dir / "a.db", false);
  migrate_audit_schema(db);
  CHECK(text(db, "SELECT seq || '|' || event || '|' || subject || '|' || note || '|' || prev_digest FROM chain") ==
        "1|chain started|audit log schema v5|seals the state of the 1 runs written before this upgrade as it was found|");
  VerifyReport r = verify_audit_log(db);
  CHECK(r.ok());
  REQUIRE(r.runs.size() == 1);
  CHECK_FALSE(r.runs[0].digested);  // a failed run from before v5 has nothing sealed to check
}

TEST_CASE("audit chain: heads are SEQ:DIGEST with a full SHA-256, anything else is refused with the expected form") {
  std::string d(64, 'a');
  CHECK(parse_head("12:" + d) == std::make_pair(int64_t{12}, d));
  CHECK(parse_head("3:" + std::string(64, 'F')).second == std::string(64, 'f'));
  for (std::string bad : {std::string("12"), ":" + d, "x:" + d, "12:" + d.substr(1), "12:" + d + "0",
                          "1:" + std::string(63, 'a') + "g", "99999999999999999999:" + d})
    CHECK_THROWS_WITH_AS(parse_head(bad),
                         ("--expect-head expects SEQ:DIGEST as `seam audit head` prints it (e.g. 12:3f2a...), found '" +
                          bad + "'")
                             .c_str(),
                         UserError);
}
