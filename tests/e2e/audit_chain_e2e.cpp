// The audit chain end to end: a log with runs, resolutions, an acknowledgement and alert
// deliveries verifies; every kind of edit made with plain SQL (triggers dropped where they
// stand in the way) fails `seam audit verify` and makes writing commands refuse the log;
// --expect-head catches truncation and rewritten history; a read-only copy verifies and
// reads; a full disk gets its own exit code and leaves the log consistent.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const std::string kDay1 = "SEAM_NOW=2026-03-24T06:00:00Z", kDay3 = "SEAM_NOW=2026-03-26T06:00:00Z";

// The refunds example after two runs (three exceptions resolved in between), an
// acknowledgement, and alerts written to a file.
struct Baseline {
  TempDir dir;
  std::string stack = dir / "refunds";
  std::string head_after_run1, head;
  Baseline() {
    copy_example("refunds", stack);
    write_file(stack + "/stack.lua", read_file(stack + "/stack.lua") +
                                         "\nalert \"ops\" { to = ndjson_file { path = \"alerts.ndjson\" }, "
                                         "min_severity = \"high\" }\n");
    REQUIRE(run_seam(dir.path(), "run refunds", kDay1).exit == 1);
    head_after_run1 = trimmed(run_seam(dir.path(), "audit head --stack refunds").out);
    std::filesystem::copy_file(stack + "/seam.db", dir / "after-run1.db");
    // The ERP posts R1003 and corrects R1012: run 2 resolves their exceptions.
    std::string erp = read_file(stack + "/data/erp_customer_refunds.csv");
    erp.replace(erp.find("USD,-4.00\r\n"), 11, "USD,-40.00\r\n");
    erp += "CR-9003,CREF1003,03/11/2026 5:10 am,\"Lee, Ana\",Sales Order #5003,Shopify refund R1003,Refunded,"
           "NOT_AS_DESCRIBED,USD,-60.00\r\n";
    write_file(stack + "/data/erp_customer_refunds.csv", erp);
    REQUIRE(run_seam(dir.path(), "run refunds", kDay3).exit == 1);
    REQUIRE(run_seam(dir.path(), "exceptions ack 2 --by ana --note \"re-posting\" --stack refunds", kDay3).exit == 0);
    head = trimmed(run_seam(dir.path(), "audit head --stack refunds").out);
  }
  static std::string trimmed(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // A copy of the stack folder, log included, for one tampering.
  std::string copy(const std::string& name) const {
    std::string to = dir / name;
    std::filesystem::copy(stack, to, std::filesystem::copy_options::recursive);
    return to;
  }
};

struct Tampering {
  std::string what;
  const char* sql;
  const char* problem;  // a part of the line `seam audit verify` prints for it
  // Whether the edit is of the log's state, which writers check before sealing on top. An
  // edit of a sealed run's own rows or of the chain stays visible to verify whatever is
  // written after it.
  bool of_state = true;
};

}  // namespace

TEST_CASE("audit chain: an untouched log verifies, its chain records every change, and the head names its last entry") {
  Baseline b;
  auto verify = run_seam(b.dir.path(), "audit verify --stack refunds --expect-head " + b.head);
  CHECK(verify.exit == 0);
  CHECK(verify.out == "run 1: ok\nrun 2: ok\naudit log verifies; head " + b.head + "\n");
  Db db(b.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT seq, event, subject, coalesce(actor, ''), coalesce(note, '') FROM chain ORDER BY seq") ==
        std::vector<std::string>{"1|chain started|audit log schema v5||",
                                 "2|run complete|run 1||",
                                 "3|alerts planned|run 1||1 deliveries",
                                 "4|alert delivered|alert delivery 1 attempt 1||",
                                 "5|run complete|run 2||",
                                 "6|acknowledged|exception 2|ana|re-posting"});
  CHECK(b.head.rfind("6:", 0) == 0);
  CHECK(b.head.size() == 2 + 64);
  CHECK(b.head_after_run1.rfind("4:", 0) == 0);
  // The head entry's digest is the one `audit head` printed.
  CHECK("6:" + rows(db, "SELECT digest FROM chain WHERE seq = 6")[0] == b.head);
}

TEST_CASE("audit chain: every kind of edit outside seam fails verify, and writing commands refuse the log") {
  Baseline b;
  const Tampering cases[] = {
      {"an exception marked resolved", "UPDATE exceptions SET status = 'resolved', resolved_run = 2 WHERE id = 9",
       "exceptions differ from what it sealed"},
      {"an exception's amounts changed", "UPDATE exceptions SET left_amount = 0, right_amount = 0 WHERE id = 9",
       "exceptions differ from what it sealed"},
      {"an exception's message changed", "UPDATE exceptions SET message = 'fine' WHERE id = 3",
       "exceptions differ from what it sealed"},
      {"an acknowledgement deleted",
       "DROP TRIGGER events_no_delete; DELETE FROM exception_events WHERE event = 'acknowledged'",
       "exception_events differ from what it sealed"},
      {"a resolution forged by cfo",
       "INSERT INTO exception_events (exception_id, run_id, at, event, by_whom) "
       "VALUES (9, 2, '2026-03-26T06:00:00Z', 'resolved', 'cfo')",
       "exception_events differ from what it sealed"},
      {"an alert delivery edited", "UPDATE alert_deliveries SET target = '/dev/null'",
       "alert_deliveries differ from what it sealed"},
      {"an alert attempt removed", "DROP TRIGGER alert_attempts_no_delete; DELETE FROM alert_attempts",
       "alert_attempts differ from what it sealed"},
      {"a run's end time changed", "DROP TRIGGER runs_sealed; UPDATE runs SET ended_at = '2026-03-01T00:00:00Z' WHERE id = 1",
       "runs differ from what it sealed"},
      {"a complete run marked failed", "DROP TRIGGER runs_sealed; UPDATE runs SET status = 'failed' WHERE id = 2",
       "runs differ from what it sealed"},
      {"a rule's doc changed", "UPDATE rules SET doc = 'nothing to see' WHERE id = 1",
       "rules differ from what it sealed"},
      {"a rule's definition changed", "UPDATE rules SET definition = 'exists_in {}' WHERE id = 2",
       "rules differ from what it sealed"},
      {"a reconcile's systems changed", "UPDATE run_reconciles SET right_system = 'wms' WHERE run_id = 1",
       "run_reconciles differ from what it sealed"},
      {"a param value changed", "UPDATE run_params SET value = '999' WHERE run_id = 2 AND name = 'lag_minutes'",
       "run_params differ from what it sealed"},
      {"the newest run deleted",
       "DROP TRIGGER runs_no_delete; DROP TRIGGER group_blocks_no_delete; DROP TRIGGER details_no_delete; "
       "DROP TRIGGER rejects_no_delete; DELETE FROM group_blocks WHERE run_id = 2; "
       "DELETE FROM verdict_details WHERE run_id = 2; DELETE FROM rejects WHERE run_id = 2; "
       "DELETE FROM run_rules WHERE run_id = 2; DELETE FROM run_reconciles WHERE run_id = 2; "
       "DELETE FROM run_inputs WHERE run_id = 2; DELETE FROM run_params WHERE run_id = 2; "
       "DELETE FROM runs WHERE id = 2",
       "runs, run_params, run_inputs, run_reconciles, run_rules differ from what it sealed"},
      {"a chain entry's note changed", "DROP TRIGGER chain_no_update; UPDATE chain SET note = 'ok' WHERE seq = 6",
       "chain entry 6 (acknowledged, exception 2) does not match its digest", false},
      {"a chain entry removed", "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq = 3",
       "chain entry 4 (alert delivered, alert delivery 1 attempt 1) follows entry 2: entries were removed", false},
      {"a group's outcome rewritten",
       "DROP TRIGGER group_blocks_no_update; UPDATE group_blocks SET groups = replace(groups, 'PF', 'PP') WHERE run_id = 1",
       "run 1: TAMPERED: verdict rows do not match the sealed verdicts digest", false},
      {"verdict rows slipped in under a run that does not exist",
       "INSERT INTO verdict_details (run_id, group_no, position, message) VALUES (77, 0, 0, 'x')",
       "1 verdict_details rows belong to no run", false},
  };
  int n = 0;
  for (const auto& t : cases) {
    CAPTURE(t.what);
    std::string folder = "case" + std::to_string(n++);
    std::string stack = b.copy(folder);
    {
      Db db(stack + "/seam.db", false);
      db.exec(t.sql);
    }
    auto verify = run_seam(b.dir.path(), "audit verify --stack " + folder);
    CHECK(verify.exit == 1);
    CHECK(verify.out.find(t.problem) != std::string::npos);
    CHECK(verify.out.find("audit log does NOT verify") != std::string::npos);
    if (!t.of_state) continue;
    // Sealing on top would launder the edit: writers refuse, exit 5, and change nothing.
    auto run = run_seam(b.dir.path(), "run " + folder, kDay3);
    CHECK(run.exit == 5);
    CHECK(run.err.find("was changed outside seam after chain entry 6 (acknowledged, exception 2, 2026-03-26T06:00:00Z)") !=
          std::string::npos);
    CHECK(run.err.find("seam will not write into it") != std::string::npos);
    auto ack = run_seam(b.dir.path(), "exceptions ack 3 --by bo --note x --stack " + folder, kDay3);
    CHECK(ack.exit == 5);
    Db db(stack + "/seam.db", false);
    CHECK(rows(db, "SELECT max(seq) FROM chain") == std::vector<std::string>{"6"});
  }
}

TEST_CASE("audit chain: --expect-head catches a log replaced by an older copy and a history rewritten from doctored exports") {
  Baseline b;
  // An older copy put back in place: every row in it is genuine, but the chain is short.
  std::string older = b.copy("older");
  std::filesystem::copy_file(b.dir / "after-run1.db", older + "/seam.db", std::filesystem::copy_options::overwrite_existing);
  auto plain = run_seam(b.dir.path(), "audit verify --stack older");
  CHECK(plain.exit == 0);  // on its own the older copy is consistent: only a head kept elsewhere tells
  auto truncated = run_seam(b.dir.path(), "audit verify --stack older --expect-head " + b.head);
  CHECK(truncated.exit == 1);
  CHECK(truncated.out.find("TAMPERED: the chain ends at entry 4, before the expected head 6: later entries were removed") !=
        std::string::npos);

  // History rewritten: the log deleted and the runs redone with a doctored export.
  std::string rewritten = b.copy("rewritten");
  std::filesystem::remove(rewritten + "/seam.db");
  std::string sf = read_file(rewritten + "/data/storefront_refunds.ndjson");
  sf.replace(sf.find("\"amount\":\"40.00\""), 16, "\"amount\":\"4.00\"");  // R1012 now agrees with the ERP's wrong amount
  write_file(rewritten + "/data/storefront_refunds.ndjson", sf);
  REQUIRE(run_seam(b.dir.path(), "run rewritten", kDay1).exit == 1);
  REQUIRE(run_seam(b.dir.path(), "run rewritten", kDay3).exit == 1);
  REQUIRE(run_seam(b.dir.path(), "exceptions ack 2 --by ana --note \"re-posting\" --stack rewritten", kDay3).exit == 0);
  auto redone = run_seam(b.dir.path(), "audit verify --stack rewritten --expect-head " + b.head);
  CHECK(redone.exit == 1);
  CHECK(redone.out.find("TAMPERED: chain entry 6 (acknowledged, exception 2) is not the expected head " + b.head +
                        " (the history up to it was rewritten)") != std::string::npos);

  auto malformed = run_seam(b.dir.path(), "audit verify --stack refunds --expect-head 6:abc");
  CHECK(malformed.exit == 2);
  CHECK(malformed.err ==
        "seam: error: --expect-head expects SEQ:DIGEST as `seam audit head` prints it (e.g. 12:3f2a...), found '6:abc'\n");
}

TEST_CASE("audit chain: a log on read-only media verifies and every read command works") {
  Baseline b;
  // seam runs as an unprivileged user (root would write anyway) over a folder it cannot write.
  std::string ro = b.copy("ro");
  for (const auto& p : {b.dir.path(), ro, ro + "/data", ro + "/tests"}) chmod(p.c_str(), 0755);
  for (const auto& e : std::filesystem::recursive_directory_iterator(ro))
    chmod(e.path().c_str(), e.is_directory() ? 0555 : 0444);
  chmod(ro.c_str(), 0555);
  auto as_nobody = [&](const std::string& args) {
    return run_seam(b.dir.path(), args, kDay3 + " setpriv --reuid=65534 --regid=65534 --clear-groups");
  };
  auto verify = as_nobody("audit verify --stack ro --expect-head " + b.head);
  CHECK(verify.err == "");
  CHECK(verify.exit == 0);
  CHECK(verify.out == "run 1: ok\nrun 2: ok\naudit log verifies; head " + b.head + "\n");
  CHECK(as_nobody("audit head --stack ro").out == b.head + "\n");
  auto trace = as_nobody("trace R1013 --stack ro");
  CHECK(trace.exit == 0);
  CHECK(trace.out.find("#9 open  refunds_reach_erp / exists in right") != std::string::npos);
  CHECK(as_nobody("report variance --stack ro --format csv").exit == 0);
  CHECK(as_nobody("exceptions --stack ro").exit == 0);
  auto replay = as_nobody("replay ro --db ro/seam.db");
  CHECK(replay.err == "");
  CHECK(replay.exit <= 1);
  // Writing is a storage error with its own exit code, not a usage error.
  auto ack = as_nobody("exceptions ack 3 --by bo --note x --stack ro");
  CHECK(ack.exit == 4);
  CHECK(ack.err.find("seam: storage error: ") == 0);
  chmod(ro.c_str(), 0755);  // so the scratch folder can be removed
  for (const auto& e : std::filesystem::recursive_directory_iterator(ro)) chmod(e.path().c_str(), 0755);
}

TEST_CASE("audit chain: a full disk is a storage error (exit 4) and the log stays consistent and verifying") {
  Baseline b;
  std::string small = b.copy("small");
  auto size_kb = std::filesystem::file_size(small + "/seam.db") / 1024;
  // Files may not grow past the log's size: the next run's first commit to the WAL fails.
  std::string limit = "sh -c 'trap \"\" XFSZ; ulimit -f " + std::to_string(size_kb) + "; exec \"$0\" \"$@\"'";
  auto full = run_seam(b.dir.path(), "run small", kDay3 + " " + limit);
  CHECK(full.exit == 4);
  CHECK(full.err.find("seam: storage error: audit log small/seam.db: ") != std::string::npos);
  CHECK(full.err.find("nothing of this write was kept") != std::string::npos);
  auto verify = run_seam(b.dir.path(), "audit verify --stack small --expect-head " + b.head);
  CHECK(verify.exit == 0);
  // With room again, the next run goes through.
  CHECK(run_seam(b.dir.path(), "run small", kDay3).exit == 1);
  CHECK(run_seam(b.dir.path(), "audit verify --stack small --expect-head " + b.head).exit == 0);
}

TEST_CASE("audit chain: the links from exceptions to their causes are sealed state") {
  TempDir dir;
  copy_example("giftcards", dir / "giftcards");
  REQUIRE(run_seam(dir.path(), "run giftcards", kDay1).exit == 1);
  {
    Db db(dir / "giftcards/seam.db", false);
    REQUIRE(rows(db, "SELECT count(*) FROM exception_causes") == std::vector<std::string>{"6"});
  }
  CHECK(run_seam(dir.path(), "audit verify --stack giftcards").exit == 0);
  const Tampering cases[] = {
      {"a cause's explained amount changed", "UPDATE exception_causes SET explains = 0",
       "exception_causes differ from what it sealed"},
      {"every cause link deleted", "DELETE FROM exception_causes", "exception_causes differ from what it sealed"},
      {"a cause link forged", "INSERT INTO exception_causes VALUES (2, 1, 500, 'USD')",
       "exception_causes differ from what it sealed"},
  };
  int n = 0;
  for (const auto& t : cases) {
    CAPTURE(t.what);
    std::string folder = "case" + std::to_string(n++);
    std::filesystem::copy(dir / "giftcards", dir / folder, std::filesystem::copy_options::recursive);
    {
      Db db(dir / folder + "/seam.db", false);
      db.exec(t.sql);
    }
    auto verify = run_seam(dir.path(), "audit verify --stack " + folder);
    CHECK(verify.exit == 1);
    CHECK(verify.out.find(t.problem) != std::string::npos);
    auto run = run_seam(dir.path(), "run " + folder, kDay3);
    CHECK(run.exit == 5);
    CHECK(run.err.find("exception_causes differ from what it sealed") != std::string::npos);
  }
}
