// Exceptions a changed stack no longer evaluates are retired (schema v9): a rule removed or
// renamed, a reconciliation removed, a match on other keys. A key simply absent from the
// inputs stays open, a windowed run retires nothing, a rule restored reopens, and a log
// written at schema v8 upgrades, verifies and retires on its next run.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const std::string kDay1 = "SEAM_NOW=2026-03-24T06:00:00Z", kDay3 = "SEAM_NOW=2026-03-26T06:00:00Z",
                  kDay4 = "SEAM_NOW=2026-03-27T06:00:00Z";

const std::string kReasonRule = "    present { \"right.reason_code\", name = \"reason code kept\" },\n";
const std::string kSameMonth = "same_month { left = \"at\", right = \"posted_at\", zone = \"America/New_York\" }";
const std::string kSameMonthRenamed =
    "same_month { left = \"at\", right = \"posted_at\", zone = \"America/New_York\", name = \"same month in New York\" }";

struct Refunds {
  TempDir dir;
  std::string stack = dir / "refunds";
  // The example without its processor leg (declared last): these tests are about the ERP
  // and order levels' exceptions and their ids.
  Refunds() {
    copy_example("refunds", stack);
    std::string lua = read_file(stack + "/stack.lua");
    const size_t processor = lua.find("\nsystem \"processor\"");
    REQUIRE(processor != std::string::npos);
    write_file(stack + "/stack.lua", lua.substr(0, processor + 1));
  }
  Invocation seam(const std::string& args, const std::string& env = kDay3) { return run_seam(dir.path(), args, env); }
  void edit(const std::string& from, const std::string& to) {
    std::string lua = read_file(stack + "/stack.lua");
    REQUIRE(lua.find(from) != std::string::npos);
    lua.replace(lua.find(from), from.size(), to);
    write_file(stack + "/stack.lua", lua);
  }
  std::vector<std::string> query(const std::string& sql) {
    Db db(stack + "/seam.db", false);
    return rows(db, sql);
  }
  // id|status|resolved_run of every exception whose status is not open.
  std::vector<std::string> not_open() {
    return query("SELECT id || '|' || status || '|' || coalesce(resolved_run, '') FROM exceptions "
                 "WHERE status <> 'open' ORDER BY id");
  }
};

}  // namespace

TEST_CASE("retire: a rule removed and a rule renamed retire exactly their exceptions, with the run and why") {
  Refunds r;
  r.edit("reconcile \"refunds_reach_erp\"",
         "alert \"ops\" { to = ndjson_file { path = \"alerts.ndjson\" }, min_severity = \"low\" }\n"
         "reconcile \"refunds_reach_erp\"");
  REQUIRE(r.seam("run refunds", kDay1).exit == 1);
  auto before = r.query("SELECT id || '|' || group_key || '|' || rule FROM exceptions WHERE id IN (4, 10)");
  CHECK(before == std::vector<std::string>{"4|R1006|reason code kept", "10|R1015|same accounting month"});
  const size_t alerted_run1 = lines_of(read_file(r.stack + "/alerts.ndjson")).size();
  // Acknowledged or open, an exception its stack no longer evaluates is retired.
  REQUIRE(r.seam("exceptions ack 4 --note \"reason codes are optional now\" --by ana --stack refunds", kDay1).exit == 0);

  r.edit(kReasonRule, "");
  r.edit(kSameMonth, kSameMonthRenamed);
  auto second = r.seam("run refunds");
  CHECK(second.exit == 1);
  // R1015 still fails the renamed rule: a new exception under its new name.
  CHECK(second.out.find("exceptions across runs: 1 opened, 0 reopened, 14 still open, 0 resolved, 2 retired "
                        "(seam exceptions)\n") != std::string::npos);
  CHECK(r.not_open() == std::vector<std::string>{"4|retired|2", "10|retired|2"});
  CHECK(r.query("SELECT exception_id || '|' || run_id || '|' || at || '|' || event || '|' || note FROM exception_events "
                "WHERE run_id = 2") ==
        std::vector<std::string>{
            "4|2|2026-03-26T06:00:00Z|retired|rule 'reason code kept' is no longer declared in reconcile 'refunds_reach_erp'",
            "10|2|2026-03-26T06:00:00Z|retired|rule 'same accounting month' is no longer declared in reconcile "
            "'refunds_reach_erp'"});
  CHECK(r.query("SELECT id || '|' || group_key || '|' || rule || '|' || status || '|' || first_run FROM exceptions "
                "WHERE first_run = 2") == std::vector<std::string>{"17|R1015|same month in New York|open|2"});
  CHECK(r.query("SELECT count(*) FROM exceptions WHERE status = 'open' AND last_run = 2") ==
        std::vector<std::string>{"15"});

  auto listed = r.seam("exceptions --status retired --stack refunds");
  CHECK(listed.exit == 0);
  auto lines = lines_of(listed.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].find("4   retired  refunds_reach_erp  R1006  reason code kept") == 0);
  CHECK(lines[1].find("retired by run 2: rule 'reason code kept' is no longer declared in reconcile "
                      "'refunds_reach_erp'") != std::string::npos);
  auto json = r.seam("exceptions --status retired --stack refunds --format json");
  CHECK(python_json(json.out, "[(e['id'], e['status'], e['resolved_run'], e['retired_run'], e['retired_because']) for e in d]") ==
        "[(4, 'retired', None, 2, \"rule 'reason code kept' is no longer declared in reconcile 'refunds_reach_erp'\"), "
        "(10, 'retired', None, 2, \"rule 'same accounting month' is no longer declared in reconcile "
        "'refunds_reach_erp'\")]");
  // Retired is neither unresolved nor resolved; `all` has it.
  CHECK(r.seam("exceptions --stack refunds --format json").out.find("\"status\":\"retired\"") == std::string::npos);
  CHECK(r.seam("exceptions --status resolved --stack refunds").out == "no resolved exceptions\n");
  CHECK(r.seam("exceptions --status all --stack refunds --format json").out.find("\"id\":4,\"status\":\"retired\"") !=
        std::string::npos);
  CHECK(csv_fields(r.seam("report variance --stack refunds --status retired --format csv").out, 6) ==
        std::vector<std::string>{"id,key,system_of_record,reconcile,rule,status",
                                 "4,R1006,storefront,refunds_reach_erp,reason code kept,retired",
                                 "10,R1015,storefront,refunds_reach_erp,same accounting month,retired"});
  CHECK(r.seam("report variance --stack refunds --format csv").out.find(",retired,") == std::string::npos);
  auto json_run = r.seam("run refunds --format json", kDay3);
  CHECK(python_json(json_run.out, "d['exceptions']") ==
        "{'opened': 0, 'reopened': 0, 'still_open': 15, 'resolved': 0, 'retired': 0}");
  // A retired exception is not news: the alerts of run 2 name only the one it opened.
  auto alerted = lines_of(read_file(r.stack + "/alerts.ndjson"));
  REQUIRE(alerted.size() == alerted_run1 + 1);
  CHECK(alerted.back().find("\"run_id\":2,\"alert\":\"ops\",\"id\":17,\"event\":\"opened\"") != std::string::npos);
  CHECK(r.seam("exceptions ack 4 --note x --by ana --stack refunds").err ==
        "seam: error: exception 4 is retired; only open exceptions can be acknowledged\n");

  // The rules come back (and the new name goes): the retired ones fail again and reopen.
  r.edit(kSameMonthRenamed, kSameMonth);
  r.edit("    same_month {", kReasonRule + "    same_month {");
  auto fourth = r.seam("run refunds", kDay4);
  CHECK(fourth.out.find("exceptions across runs: 0 opened, 2 reopened, 14 still open, 0 resolved, 1 retired "
                        "(seam exceptions)\n") != std::string::npos);
  CHECK(r.not_open() == std::vector<std::string>{"17|retired|4"});
  CHECK(r.query("SELECT exception_id || '|' || run_id || '|' || event FROM exception_events WHERE run_id = 4") ==
        std::vector<std::string>{"4|4|reopened", "10|4|reopened", "17|4|retired"});
  alerted = lines_of(read_file(r.stack + "/alerts.ndjson"));
  REQUIRE(alerted.size() == alerted_run1 + 3);
  CHECK(alerted[alerted_run1 + 1].find("\"run_id\":4,\"alert\":\"ops\",\"id\":4,\"event\":\"reopened\"") !=
        std::string::npos);
  auto verify = r.seam("audit verify --stack refunds");
  CHECK(verify.exit == 0);
  CHECK(verify.out.find("audit log verifies") != std::string::npos);
}

TEST_CASE("retire: a reconciliation removed retires its exceptions, a key absent from the inputs stays open") {
  Refunds r;
  REQUIRE(r.seam("run refunds", kDay1).exit == 1);
  CHECK(r.query("SELECT id FROM exceptions WHERE reconcile = 'order_refund_totals' ORDER BY id") ==
        std::vector<std::string>{"13", "14", "15", "16"});
  std::string lua = read_file(r.stack + "/stack.lua");
  lua.resize(lua.find("-- Order level"));
  write_file(r.stack + "/stack.lua", lua);
  // Refund R1013 (missing in the ERP, exception 9) is not in today's storefront export.
  std::string shop = read_file(r.stack + "/data/storefront_refunds.ndjson");
  size_t at = shop.find("{\"id\":\"R1013\"");
  REQUIRE(at != std::string::npos);
  shop.erase(at, shop.find('\n', at) + 1 - at);
  write_file(r.stack + "/data/storefront_refunds.ndjson", shop);

  auto second = r.seam("run refunds");
  CHECK(second.out.find("exceptions across runs: 0 opened, 0 reopened, 11 still open, 0 resolved, 4 retired "
                        "(seam exceptions)\n") != std::string::npos);
  CHECK(r.not_open() == std::vector<std::string>{"13|retired|2", "14|retired|2", "15|retired|2", "16|retired|2"});
  CHECK(r.query("SELECT DISTINCT note FROM exception_events WHERE event = 'retired'") ==
        std::vector<std::string>{"reconcile 'order_refund_totals' is no longer declared"});
  CHECK(r.query("SELECT status || '|' || last_run FROM exceptions WHERE id = 9") == std::vector<std::string>{"open|1"});
}

TEST_CASE("retire: a match on other keys retires the old keys' exceptions and opens the new keys'") {
  Refunds r;
  REQUIRE(r.seam("run refunds", kDay1).exit == 1);
  // The order level's groups known by their first storefront refund, not by the order.
  r.edit("cardinality = \"many_to_many\" },", "cardinality = \"many_to_many\" }, key_by = \"left\",");
  auto second = r.seam("run refunds");
  CHECK(second.exit == 1);
  CHECK(second.out.find("exceptions across runs: 4 opened, 0 reopened, 12 still open, 0 resolved, 4 retired "
                        "(seam exceptions)\n") != std::string::npos);
  CHECK(r.query("SELECT id || '|' || group_key || '|' || rule || '|' || status || '|' || coalesce(resolved_run, '') "
                "FROM exceptions WHERE reconcile = 'order_refund_totals' ORDER BY id") ==
        std::vector<std::string>{"13|5005|order refunds add up|retired|2", "14|5008|order refunds add up|retired|2",
                                 "15|5008|each partial refund posted|retired|2", "16|5012|order refunds add up|retired|2",
                                 "17|R1005|order refunds add up|open|", "18|R1009|order refunds add up|open|",
                                 "19|R1009|each partial refund posted|open|", "20|R1012|order refunds add up|open|"});
  CHECK(r.query("SELECT DISTINCT note FROM exception_events WHERE event = 'retired'") ==
        std::vector<std::string>{"reconcile 'order_refund_totals' now matches on a different key"});
  // The refund level's match did not change: none of its exceptions is retired.
  CHECK(r.query("SELECT count(*) FROM exceptions WHERE reconcile = 'refunds_reach_erp' AND status <> 'open'") ==
        std::vector<std::string>{"0"});
  CHECK(r.query("SELECT run_id || '|' || definition FROM run_match_keys WHERE reconcile_no = 1 ORDER BY run_id") ==
        std::vector<std::string>{"1|storefront.refund_id -> erp.internal_id; key order_id = order_id",
                                 "2|storefront.refund_id -> erp.internal_id; key order_id = order_id; key_by left"});
  CHECK(r.seam("audit verify --stack refunds").exit == 0);
}

TEST_CASE("retire: a windowed run retires nothing, the next whole run does") {
  Refunds r;
  REQUIRE(r.seam("run refunds", kDay1).exit == 1);
  r.edit(kReasonRule, "");
  auto windowed = r.seam("run refunds --since 2026-03-12 --until 2026-03-15");
  CHECK(windowed.out.find("exceptions across runs: ") != std::string::npos);
  CHECK(windowed.out.find(" retired (seam exceptions)") == std::string::npos);
  CHECK(r.query("SELECT count(*) FROM exceptions WHERE status = 'retired'") == std::vector<std::string>{"0"});
  CHECK(r.query("SELECT count(*) FROM exception_events WHERE event = 'retired'") == std::vector<std::string>{"0"});
  auto whole = r.seam("run refunds", kDay4);
  CHECK(whole.out.find(", 1 retired (seam exceptions)\n") != std::string::npos);
  CHECK(r.not_open() == std::vector<std::string>{"4|retired|3"});
}

TEST_CASE("retire: a log written at schema v8 upgrades in place, verifies, and retires on its next run") {
  Refunds r;
  // The same data as the fixture's second run (tests/fixtures/refunds_v8.sql).
  std::string erp = read_file(r.stack + "/data/erp_customer_refunds.csv");
  erp.replace(erp.find("USD,-4.00\r\n"), 11, "USD,-40.00\r\n");
  erp += "CR-9003,CREF1003,03/11/2026 5:10 am,\"Lee, Ana\",Sales Order #5003,Shopify refund R1003,Refunded,"
         "NOT_AS_DESCRIBED,USD,-60.00\r\n";
  write_file(r.stack + "/data/erp_customer_refunds.csv", erp);
  std::vector<std::string> shape_before;
  {
    Db db(r.stack + "/seam.db", true);
    db.exec(read_file(std::string(SEAM_SOURCE_DIR) + "/tests/fixtures/refunds_v8.sql"));
    REQUIRE(rows(db, "PRAGMA user_version") == std::vector<std::string>{"8"});
    shape_before = rows(db, "SELECT * FROM exceptions ORDER BY id");
  }
  auto verify = r.seam("audit verify --stack refunds");
  CHECK(verify.exit == 0);
  // The head is the one the v8 log had: the upgrade changed no sealed state.
  CHECK(verify.out.find("audit log verifies; head 4:7063187c37aafd1747ccabb18cb39005975cad7db17df009b67ca75b60a5f583") !=
        std::string::npos);
  CHECK(r.query("PRAGMA user_version") == std::vector<std::string>{"9"});
  CHECK(r.query("SELECT * FROM exceptions ORDER BY id") == shape_before);
  CHECK(r.query("SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name IN ('exceptions', 'exception_events') "
                "AND type <> 'table' ORDER BY name") ==
        std::vector<std::string>{"trigger events_no_delete", "trigger events_no_update", "index exception_events_by_exception",
                                 "trigger exceptions_keep_identity", "trigger exceptions_no_delete",
                                 "index sqlite_autoindex_exceptions_1"});

  r.edit(kReasonRule, "");
  auto third = r.seam("run refunds", kDay4);
  CHECK(third.out.find("exceptions across runs: 0 opened, 0 reopened, 12 still open, 0 resolved, 1 retired "
                       "(seam exceptions)\n") != std::string::npos);
  CHECK(r.not_open() == std::vector<std::string>{"1|resolved|2", "2|acknowledged|", "4|retired|3", "8|resolved|2",
                                                  "16|resolved|2"});
  CHECK(r.query("SELECT event || '|' || coalesce(by_whom, '') || '|' || coalesce(note, '') FROM exception_events "
                "ORDER BY id") ==
        std::vector<std::string>{"resolved||", "resolved||", "resolved||",
                                 "acknowledged|ana|ERP re-posting with the right date",
                                 "retired||rule 'reason code kept' is no longer declared in reconcile 'refunds_reach_erp'"});
  verify = r.seam("audit verify --stack refunds");
  CHECK(verify.exit == 0);
  CHECK(verify.out.find("run 3: ok\n") != std::string::npos);
  CHECK(verify.out.find("audit log verifies; head 5:") != std::string::npos);
}
