#include <doctest/doctest.h>

#include "engine/audit/audit_log.hpp"
#include "engine/audit/schema.hpp"
#include "engine/audit/verify.hpp"
#include "engine/spec/stack_spec.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;

namespace {

int64_t scalar(Db& db, const std::string& sql) {
  Statement s(db, sql);
  REQUIRE(s.step());
  return s.int_at(0);
}

std::string text(Db& db, const std::string& sql) {
  Statement s(db, sql);
  REQUIRE(s.step());
  return s.text_at(0);
}

// One complete run with two groups: one all-pass, one with a failure.
void write_run(const std::string& path) {
  StackSpec stack;
  ParamValues params = ParamValues::resolve(stack, {});
  AuditLog log(path);
  log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""}, params);
  RuleSpec a, b;
  a.name = "exists";
  a.kind = RuleKind::ExistsIn;
  a.version = "v1";
  b.name = "amount";
  b.kind = RuleKind::AmountEqual;
  b.version = "v2";
  log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", a), log.rule_id("shop", "r", b)});
  log.add_input({"left", "l.csv", "abc", 3, 2, 1}, {{"left", "l.csv", 4, "bad amount", "x,y"}});
  log.add_group(0, "K1", "L1", "R1", {Verdict::pass(), Verdict::pass()});
  log.add_group(0, "K2", "L2", "R2",
                {Verdict::pass(), Verdict::make(Outcome::Fail, "off", "10.00 USD", "9.00 USD", "-1.00 USD")});
  log.complete_run("2026-03-24T18:00:01Z");
}

}  // namespace

TEST_CASE("audit: a new log is created at the current schema version, reopening changes nothing") {
  TempDir dir;
  {
    Db db(dir / "a.db", true);
    migrate_audit_schema(db);
    CHECK(scalar(db, "PRAGMA user_version") == kAuditSchemaVersion);
    CHECK(text(db, "PRAGMA journal_mode") == "wal");
  }
  Db db(dir / "a.db", false);
  migrate_audit_schema(db);
  CHECK(scalar(db, "PRAGMA user_version") == kAuditSchemaVersion);
}

TEST_CASE("audit: a log from a newer seam is refused, not rewritten") {
  TempDir dir;
  Db db(dir / "a.db", true);
  db.exec("PRAGMA user_version = 99");
  CHECK_THROWS_WITH_AS(migrate_audit_schema(db),
                       ("audit log " + (dir / "a.db") +
                        " has schema version 99, newer than this seam understands (" +
                        std::to_string(kAuditSchemaVersion) + "); upgrade seam").c_str(),
                       AuditError);
}

TEST_CASE("audit: passes are stored densely and expand to one row per verdict") {
  TempDir dir;
  write_run(dir / "a.db");
  Db db(dir / "a.db", false);
  CHECK(scalar(db, "SELECT count(*) FROM groups") == 2);
  CHECK(scalar(db, "SELECT count(*) FROM verdict_details") == 1);  // only the failure has a detail row
  CHECK(scalar(db, "SELECT count(*) FROM verdicts") == 4);
  CHECK(scalar(db, "SELECT count(*) FROM verdicts WHERE outcome = 'pass'") == 3);
  Statement f(db, "SELECT group_key, rule, outcome, expected, actual, delta, message, right_ids FROM failures");
  REQUIRE(f.step());
  CHECK(f.text_at(0) == "K2");
  CHECK(f.text_at(1) == "amount");
  CHECK(f.text_at(2) == "fail");
  CHECK(f.text_at(3) == "10.00 USD");
  CHECK(f.text_at(4) == "9.00 USD");
  CHECK(f.text_at(5) == "-1.00 USD");
  CHECK(f.text_at(6) == "off");
  CHECK(f.text_at(7) == "R2");
  CHECK_FALSE(f.step());
  CHECK(text(db, "SELECT status FROM runs") == "complete");
  CHECK(scalar(db, "SELECT fail_count FROM runs") == 1);
}

TEST_CASE("audit: history is append-only and verify finds any edit") {
  TempDir dir;
  write_run(dir / "a.db");
  write_run(dir / "a.db");
  Db db(dir / "a.db", false);
  VerifyReport clean = verify_audit_log(db);
  CHECK(clean.ok());
  CHECK(clean.runs.size() == 2);
  CHECK(text(db, "SELECT prev_seal FROM runs WHERE id = 2") == text(db, "SELECT seal FROM runs WHERE id = 1"));

  CHECK_THROWS_AS(db.exec("UPDATE verdict_details SET message = 'fine'"), AuditError);
  CHECK_THROWS_AS(db.exec("DELETE FROM groups"), AuditError);
  CHECK_THROWS_AS(db.exec("UPDATE runs SET status = 'failed' WHERE id = 1"), AuditError);

  // Someone who drops the guard can edit a row, but not the seal.
  db.exec("DROP TRIGGER details_no_update");
  db.exec("UPDATE verdict_details SET delta = '0.00 USD' WHERE run_id = 1");
  VerifyReport tampered = verify_audit_log(db);
  CHECK_FALSE(tampered.ok());
  CHECK_FALSE(tampered.runs[0].ok);
  CHECK(tampered.runs[0].problem ==
        "verdict rows do not match the sealed verdicts digest (a verdict was changed, added or removed)");
  CHECK(tampered.runs[1].ok);
}

TEST_CASE("audit: a pass turned into a fail, or a reject removed, breaks the seal") {
  TempDir dir;
  write_run(dir / "a.db");
  Db db(dir / "a.db", false);
  // Groups live in blocks: rewrite K2's outcome letters inside its block.
  db.exec("DROP TRIGGER group_blocks_no_update");
  db.exec("UPDATE group_blocks SET groups = replace(groups, '\"K2\",\"L2\",\"R2\",\"PF\"', '\"K2\",\"L2\",\"R2\",\"PP\"')");
  CHECK(scalar(db, "SELECT count(*) FROM groups WHERE group_key = 'K2' AND outcomes = 'PP'") == 1);
  CHECK_FALSE(verify_audit_log(db).ok());
  TempDir other;
  write_run(other / "a.db");
  Db db2(other / "a.db", false);
  db2.exec("DROP TRIGGER rejects_no_delete");
  db2.exec("DELETE FROM rejects");
  VerifyReport r = verify_audit_log(db2);
  CHECK(r.runs[0].problem == "reject rows do not match the sealed rejects digest");
}

TEST_CASE("audit: a run whose process died is marked incomplete by the next run") {
  TempDir dir;
  {
    Db db(dir / "a.db", true);
    migrate_audit_schema(db);
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    // pid 2^22+1 is above Linux's pid_max default: no such process
    Statement s(db, "INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
                    "VALUES ('shop', 'dir', 'd', '0', 't', 't', 'running', 4194305, ?1)");
    s.bind(1, host).run();
  }
  write_run(dir / "a.db");
  Db db(dir / "a.db", false);
  CHECK(text(db, "SELECT status FROM runs WHERE id = 1") == "incomplete");
  CHECK(text(db, "SELECT status FROM runs WHERE id = 2") == "complete");
  VerifyReport r = verify_audit_log(db);
  CHECK(r.ok());
  CHECK(r.runs[0].status == "incomplete");
}

TEST_CASE("audit: a second writer while a run is live stops with a clear message") {
  TempDir dir;
  write_run(dir / "a.db");
  {
    Db db(dir / "a.db", true);
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    Statement s(db, "INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
                    "VALUES ('shop', 'dir', 'd', '0', 't', 't', 'running', ?1, ?2)");
    s.bind(1, static_cast<int64_t>(getpid())).bind(2, host).run();  // this process: alive
  }
  StackSpec stack;
  AuditLog log(dir / "a.db");
  CHECK_THROWS_WITH_AS(log.begin_run({"shop", "dir", "d", "t", "t", "", ""}, ParamValues::resolve(stack, {})),
                       ("audit log " + (dir / "a.db") + " is being written by run 2 (pid " + std::to_string(getpid()) +
                        " on " + [] { char h[256] = {0}; gethostname(h, sizeof h - 1); return std::string(h); }() +
                        "); wait for it to finish, or use another --db").c_str(),
                       AuditError);
}

TEST_CASE("audit: a version 1 log is migrated to the current version in place, keeping its runs") {
  TempDir dir;
  {
    Db db(dir / "a.db", true);
    migrate_audit_schema(db, 1);
    db.exec("INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
            "VALUES ('old', 'dir', 'd', '0.1.0', 't', 't', 'complete', 1, 'h')");
    db.exec("INSERT INTO groups (run_id, group_no, reconcile_no, group_key, left_ids, right_ids, outcomes) "
            "VALUES (1, 0, 0, 'R1', 'R1', 'CR-1', 'PF')");
    CHECK(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'exceptions'") == 0);
  }
  Db db(dir / "a.db", false);
  migrate_audit_schema(db);
  CHECK(scalar(db, "PRAGMA user_version") == kAuditSchemaVersion);
  // Groups written one row each before v4 read through the same `groups` view as blocks do.
  CHECK(text(db, "SELECT group_key || '|' || right_ids || '|' || outcomes FROM groups") == "R1|CR-1|PF");
  CHECK_THROWS_AS(db.exec("DELETE FROM group_rows"), AuditError);
  CHECK(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('exceptions', 'alert_deliveries', 'alert_attempts')") == 3);
  CHECK(text(db, "SELECT stack_name FROM runs") == "old");
  CHECK(scalar(db, "SELECT count(*) FROM runs WHERE window_since IS NULL AND window_until IS NULL") == 1);
}

TEST_CASE("audit: the failures view shows complete runs only, failures_all_runs names each run's status") {
  TempDir dir;
  write_run(dir / "a.db");  // run 1, complete: K2 fails
  {
    StackSpec stack;
    ParamValues params = ParamValues::resolve(stack, {});
    AuditLog log(dir / "a.db");
    log.begin_run({"shop", "dir", "digest", "2026-03-25T18:00:00Z", "2026-03-25T18:00:00Z", "", ""}, params);
    RuleSpec a;
    a.name = "exists";
    a.kind = RuleKind::ExistsIn;
    a.version = "v1";
    log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", a)});
    log.add_group(0, "K3", "L3", "", {Verdict::make(Outcome::Fail, "missing", "1", "0", "")});
    log.fail_run("2026-03-25T18:00:01Z");  // run 2 stopped midway: what it wrote is kept
  }
  Db db(dir / "a.db", false);
  Statement f(db, "SELECT group_concat(run_id || ' ' || group_key || ' ' || run_status || ' ' || stack_name, ', ') FROM failures");
  REQUIRE(f.step());
  CHECK(f.text_at(0) == "1 K2 complete shop");
  Statement all(db, "SELECT group_concat(run_id || ' ' || group_key || ' ' || run_status, ', ') FROM "
                    "(SELECT * FROM failures_all_runs ORDER BY run_id)");
  REQUIRE(all.step());
  CHECK(all.text_at(0) == "1 K2 complete, 2 K3 failed");
}
