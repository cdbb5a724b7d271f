// Schema v9's pieces: the exceptions tables rebuilt with every row and trigger, the seal
// covering what decides a run's keys, and that text itself.
#include <doctest/doctest.h>

#include "bindings/stack_loader.hpp"
#include "engine/audit/audit_log.hpp"
#include "engine/audit/chain.hpp"
#include "engine/audit/schema.hpp"
#include "engine/audit/verify.hpp"
#include "engine/spec/match_keys.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::read_file;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

std::vector<std::string> rows(Db& db, const std::string& sql) {
  Statement s(db, sql);
  std::vector<std::string> out;
  while (s.step()) {
    std::string row;
    for (int c = 0; c < s.columns(); ++c) row += (c ? "|" : "") + (s.is_null(c) ? std::string("NULL") : s.text_at(c));
    out.push_back(row);
  }
  return out;
}

const char* kChains = R"LUA(stack "chain"
system "shop" { source = csv { path = "shop.csv" }, id = "refund_id",
  fields = { refund_id = "refund_id", auth = "authorization", amount = money { column = "amount", currency = "USD" } } }
system "stripe" { source = ndjson { path = "stripe.ndjson" }, id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } } }
system "erp" { source = csv { path = "erp.csv" },
  fields = { stripe_ref = "memo", amount = money { column = "amount", currency = "USD" } } }
reconcile "confirmed" {
  left = "shop", right = "stripe", key_by = "left",
  match = { left = "auth", right = "id" },
  rules = { exists_in { "right" } },
}
reconcile "booked" {
  left = "stripe", right = "erp", chain = "confirmed",
  match = {
    { name = "by reference", left = "id", right = "stripe_ref", normalize = { ignore_case = true } },
    { name = "by amount", amount = { field = "amount", tolerance = "0.05" } },
  },
  rules = { exists_in { "right" } },
}
)LUA";

}  // namespace

TEST_CASE("retire: match keys name the systems' ids, the key fields, key_by and the chain, not keyless tolerances") {
  TempDir dir;
  write_file(dir / "stack.lua", kChains);
  LoadedStack loaded = load_stack(dir.path());
  CHECK(match_keys_definition(loaded.spec, 0) == "shop.refund_id -> stripe.id; key auth = id; key_by left");
  CHECK(match_keys_definition(loaded.spec, 1) ==
        "stripe.id -> erp.(line); key id = stripe_ref normalize=it; chain confirmed (shop.refund_id -> stripe.id; "
        "key auth = id; key_by left)");
  // Another tolerance pairs records differently; each pair is still known by the same key.
  std::string other = kChains;
  other.replace(other.find("tolerance = \"0.05\""), 18, "tolerance = \"1.00\"");
  write_file(dir / "stack.lua", other);
  CHECK(match_keys_definition(load_stack(dir.path()).spec, 1) == match_keys_definition(loaded.spec, 1));
}

TEST_CASE("retire: a v8 log's exceptions and events are rebuilt with every row and trigger, and still match the chain") {
  TempDir dir;
  Db db(dir / "a.db", true);
  migrate_audit_schema(db, 8);
  db.exec("INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
          "VALUES ('shop', 'dir', 'd', '0.9.0', 't', 't', 'complete', 1, 'h')");
  db.exec("INSERT INTO exceptions (id, stack_name, reconcile, group_key, rule, system_of_record, status, severity, "
          "first_run, first_seen_at, last_run, last_seen_at, resolved_run, resolved_at, outcome, left_ids, right_ids, "
          "expected, actual, delta, message, record_at, currency, left_amount, right_amount, caused_by) VALUES "
          "(1, 'shop', 'r', 'K1', 'exists', 'left', 'resolved', 'high', 1, 't1', 1, 't1', 1, 't2', 'fail', '[\"L1\"]', "
          "'[]', '1', '0', '-5.00 USD', 'missing', '2026-03-01T00:00:00Z', 'USD', 500, 0, NULL), "
          "(2, 'shop', 'r', 'K2', 'amount', 'left', 'acknowledged', 'medium', 1, 't1', 1, 't1', NULL, NULL, 'fail', "
          "'[]', '[]', NULL, NULL, NULL, 'off', NULL, NULL, NULL, NULL, 1)");
  db.exec("INSERT INTO exception_events (exception_id, run_id, at, event, by_whom, note) VALUES "
          "(1, 1, 't2', 'resolved', NULL, NULL), (2, NULL, 't3', 'acknowledged', 'ana', 'known')");
  db.exec("INSERT INTO exception_causes VALUES (2, 1, 500, 'USD')");
  append_chain_entry(db, {"t3", "acknowledged", "exception 2", "ana", "known"});
  const auto exceptions = rows(db, "SELECT * FROM exceptions ORDER BY id");
  const auto events = rows(db, "SELECT * FROM exception_events ORDER BY id");
  CHECK_THROWS_AS(db.exec("UPDATE exceptions SET status = 'retired' WHERE id = 2"), AuditError);  // v8 has no such status

  migrate_audit_schema(db);
  CHECK(rows(db, "PRAGMA user_version") == std::vector<std::string>{"9"});
  CHECK(rows(db, "PRAGMA foreign_keys") == std::vector<std::string>{"1"});
  CHECK(rows(db, "SELECT * FROM exceptions ORDER BY id") == exceptions);
  CHECK(rows(db, "SELECT * FROM exception_events ORDER BY id") == events);
  CHECK(rows(db, "SELECT count(*) FROM chain") == std::vector<std::string>{"2"});  // no new entry: nothing sealed changed
  CHECK_NOTHROW(require_sealed_state(db));
  CHECK(rows(db, "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index') AND tbl_name IN ('exceptions', "
                 "'exception_events', 'run_match_keys') ORDER BY name") ==
        std::vector<std::string>{"events_no_delete", "events_no_update", "exception_events_by_exception",
                                 "exceptions_keep_identity", "exceptions_no_delete", "run_match_keys_no_delete",
                                 "run_match_keys_no_update", "sqlite_autoindex_exceptions_1"});
  CHECK_THROWS_WITH_AS(db.exec("DELETE FROM exceptions WHERE id = 1"), doctest::Contains("exceptions are never deleted"),
                       AuditError);
  CHECK_THROWS_WITH_AS(db.exec("UPDATE exceptions SET group_key = 'K9' WHERE id = 1"),
                       doctest::Contains("an exception keeps its identity"), AuditError);
  CHECK_THROWS_WITH_AS(db.exec("UPDATE exception_events SET note = 'x'"), doctest::Contains("append-only"), AuditError);
  CHECK_THROWS_WITH_AS(db.exec("INSERT INTO exception_events (exception_id, at, event) VALUES (9, 't', 'retired')"),
                       doctest::Contains("FOREIGN KEY"), AuditError);
  CHECK_THROWS_AS(db.exec("UPDATE exceptions SET status = 'gone' WHERE id = 2"), AuditError);
  db.exec("UPDATE exceptions SET status = 'retired', resolved_run = 1, resolved_at = 't4' WHERE id = 2");
  db.exec("INSERT INTO exception_events (exception_id, run_id, at, event, note) VALUES (2, 1, 't4', 'retired', 'why')");
  CHECK(rows(db, "SELECT status FROM exceptions WHERE id = 2") == std::vector<std::string>{"retired"});
}

TEST_CASE("retire: a run's seal covers what decides its keys, and the chain's state holds it") {
  TempDir dir;
  {
    StackSpec stack;
    AuditLog log(dir / "a.db");
    log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""},
                  ParamValues::resolve(stack, {}));
    RuleSpec rule;
    rule.name = "exists";
    rule.kind = RuleKind::ExistsIn;
    rule.version = "v1";
    log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", rule)}, nullptr, "left.id -> right.id; key a = b");
    log.add_group(0, "K1", "L1", "R1", {Verdict::pass()});
    log.complete_run("2026-03-24T18:00:01Z");
  }
  Db db(dir / "a.db", false);
  CHECK(rows(db, "SELECT * FROM run_match_keys") == std::vector<std::string>{"1|0|left.id -> right.id; key a = b"});
  CHECK(verify_audit_log(db).ok());
  CHECK(compute_state_digest(db).tables_json().find("\"run_match_keys\":") != std::string::npos);
  db.exec("DROP TRIGGER run_match_keys_no_update");
  db.exec("UPDATE run_match_keys SET definition = 'left.id -> right.id; key a = c'");
  VerifyReport edited = verify_audit_log(db);
  CHECK_FALSE(edited.ok());
  REQUIRE(edited.runs.size() == 1);
  CHECK(edited.runs[0].problem == "the run's header, params, inputs or rule catalog do not match its seal");
  REQUIRE(edited.problems.size() == 1);
  CHECK(edited.problems[0].find("): run_match_keys differ from what it sealed") != std::string::npos);
}
