// The refunds example end to end: the real binary, the real files, the exact verdicts.
#include <doctest/doctest.h>

#include <sstream>

#include "engine/util/digest.hpp"
#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

struct Example {
  TempDir dir;
  std::string stack = dir / "refunds";
  Example() { copy_example("refunds", stack); }
  Invocation run(const std::string& extra = "") { return run_seam(dir.path(), "run refunds " + extra); }
};

const std::vector<std::string> kExpectedFindings = {
    // reconcile | key | rule | outcome | delta
    "order_refund_totals|5005|order refunds add up|fail|80.00 USD",
    "order_refund_totals|5008|order refunds add up|fail|-20.00 USD",
    "order_refund_totals|5008|each partial refund posted|fail|",
    "order_refund_totals|5012|order refunds add up|fail|-36.00 USD",
    "refunds_reach_erp|R1003|exists in right|fail|-60.00 USD",
    "refunds_reach_erp|R1004|lag at -> posted_at|fail|105 min",
    "refunds_reach_erp|R1005|posted once|fail|",
    "refunds_reach_erp|R1006|reason code kept|fail|",
    "refunds_reach_erp|R1007|status mapped|fail|",
    "refunds_reach_erp|R1010|exists in right|fail|-15.00 USD",
    "refunds_reach_erp|R1011|exists in right|fail|-5.00 USD",
    "refunds_reach_erp|R1012|amount equal|fail|-36.00 USD",
    "refunds_reach_erp|R1013|exists in right|fail|-45.00 USD",
    "refunds_reach_erp|R1015|same accounting month|fail|",
    "refunds_reach_erp|R1014|exists in right|pending|",
    "refunds_reach_erp|R1031|exists in left|fail|45.00 USD",
    "refunds_reach_erp|R0999|exists in left|fail|75.00 USD",
    "refunds_reach_processor|re_3PgA1016Sh0p1fy|status mapped|fail|",
    "refunds_reach_processor|re_3PgA1020Sh0p1fy|amount equal|fail|-0.15 USD",
    "refunds_reach_processor|re_3PgA0999Dashb0rd|exists in left|fail|75.00 USD",
};

}  // namespace

TEST_CASE("e2e refunds: every seeded failure is named against the right refund and rule") {
  Example ex;
  auto r = ex.run();
  CHECK(r.exit == 1);
  CHECK(r.err == "");
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT reconcile, group_key, rule, outcome, coalesce(delta, '') FROM verdicts "
                 "WHERE outcome NOT IN ('pass', 'skip') ORDER BY reconcile, group_no, position") == kExpectedFindings);
  // Every rule on every group has a verdict: 19 refund groups x 9 rules (cardinality
  // included), 16 order groups x 2, 18 processor groups x 6.
  CHECK(rows(db, "SELECT reconcile, count(*) FROM verdicts GROUP BY reconcile ORDER BY reconcile") ==
        std::vector<std::string>{"order_refund_totals|32", "refunds_reach_erp|171", "refunds_reach_processor|108"});
  // Clean refunds: nothing but passes.
  CHECK(rows(db, "SELECT group_key, group_concat(DISTINCT outcome) FROM verdicts WHERE reconcile = 'refunds_reach_erp' "
                 "AND group_key IN ('R1001', 'R1002', 'R1009', 'R1016', 'R1017', 'R1020') GROUP BY group_key ORDER BY group_key") ==
        std::vector<std::string>{"R1001|pass", "R1002|pass", "R1009|pass", "R1016|pass", "R1017|pass", "R1020|pass"});
}

TEST_CASE("e2e refunds: messages, expected and actual values a finance person can read") {
  Example ex;
  ex.run();
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT message, expected, actual FROM verdicts WHERE group_key = 'R1013' AND outcome = 'fail'") ==
        std::vector<std::string>{"no erp record with key R1013 for storefront R1013, past the 30 min lag window; nearest "
                                 "erp candidate: CR-9014 (key R1031, same amount 45.00 USD, 12 min later)|1 erp record|none"});
  CHECK(rows(db, "SELECT message, expected, actual FROM verdicts WHERE group_key = 'R1007' AND outcome = 'fail'") ==
        std::vector<std::string>{"erp CR-9008 status is 'Pending Approval', expected 'Refunded' for storefront status "
                                 "'success'|Refunded|Pending Approval"});
  CHECK(rows(db, "SELECT message, expected, actual FROM verdicts WHERE group_key = 'R1015' AND outcome = 'fail'") ==
        std::vector<std::string>{"erp CR-9015 is booked in 2026-03 but storefront R1015 happened in 2026-02 "
                                 "(America/New_York)|2026-02|2026-03"});
  CHECK(rows(db, "SELECT message FROM verdicts WHERE group_key = 'R1014' AND outcome = 'pending'") ==
        std::vector<std::string>{"no erp record yet for storefront R1014; expected by 2026-03-24T18:30:00Z (lag window 30 min)"});
  CHECK(rows(db, "SELECT left_ids, right_ids, message FROM verdicts WHERE group_key = 'R1005' AND outcome = 'fail'") ==
        std::vector<std::string>{"[\"R1005\"]|[\"CR-9005\",\"CR-9006\"]|external_ref 'R1005' appears 2 times in erp: CR-9005, CR-9006; CR-9006 (erp_customer_refunds.csv:10) repeats CR-9005 (erp_customer_refunds.csv:9)"});
}

TEST_CASE("e2e refunds: the processor leg reads Stripe's list of refunds in cents and names what never reached the customer") {
  Example ex;
  auto r = ex.run();
  CHECK(r.exit == 1);
  // The list envelope's one array under "data" holds the records; nothing else is a row.
  CHECK(r.out.find("  processor   refunds/data/stripe_refunds.json        read 18 = accepted 18 + rejected 0\n") !=
        std::string::npos);
  CHECK(r.out.find("reconcile refunds_reach_processor (storefront -> processor): 18 groups, 108 verdicts: 101 pass, "
                   "3 fail, 4 skip\n") != std::string::npos);
  Db db(ex.stack + "/seam.db", false);
  // One group per storefront refund, keyed by its authorization (the Stripe refund id),
  // and one for the dashboard refund that no storefront refund points at.
  CHECK(rows(db, "SELECT group_key, left_ids, right_ids FROM verdicts WHERE reconcile = 'refunds_reach_processor' "
                 "AND rule = 'exists in right' ORDER BY group_no") ==
        std::vector<std::string>{
            "re_3PgA1001Sh0p1fy|[\"R1001\"]|[\"re_3PgA1001Sh0p1fy\"]", "re_3PgA1002Sh0p1fy|[\"R1002\"]|[\"re_3PgA1002Sh0p1fy\"]",
            "re_3PgA1003Sh0p1fy|[\"R1003\"]|[\"re_3PgA1003Sh0p1fy\"]", "re_3PgA1004Sh0p1fy|[\"R1004\"]|[\"re_3PgA1004Sh0p1fy\"]",
            "re_3PgA1005Sh0p1fy|[\"R1005\"]|[\"re_3PgA1005Sh0p1fy\"]", "re_3PgA1006Sh0p1fy|[\"R1006\"]|[\"re_3PgA1006Sh0p1fy\"]",
            "re_3PgA1007Sh0p1fy|[\"R1007\"]|[\"re_3PgA1007Sh0p1fy\"]", "re_3PgA1009Sh0p1fy|[\"R1009\"]|[\"re_3PgA1009Sh0p1fy\"]",
            "re_3PgA1010Sh0p1fy|[\"R1010\"]|[\"re_3PgA1010Sh0p1fy\"]", "re_3PgA1011Sh0p1fy|[\"R1011\"]|[\"re_3PgA1011Sh0p1fy\"]",
            "re_3PgA1012Sh0p1fy|[\"R1012\"]|[\"re_3PgA1012Sh0p1fy\"]", "re_3PgA1013Sh0p1fy|[\"R1013\"]|[\"re_3PgA1013Sh0p1fy\"]",
            "re_3PgA1015Sh0p1fy|[\"R1015\"]|[\"re_3PgA1015Sh0p1fy\"]", "re_3PgA1016Sh0p1fy|[\"R1016\"]|[\"re_3PgA1016Sh0p1fy\"]",
            "re_3PgA1017Sh0p1fy|[\"R1017\"]|[\"re_3PgA1017Sh0p1fy\"]", "re_3PgA1020Sh0p1fy|[\"R1020\"]|[\"re_3PgA1020Sh0p1fy\"]",
            "re_3PgA1014Sh0p1fy|[\"R1014\"]|[\"re_3PgA1014Sh0p1fy\"]", "re_3PgA0999Dashb0rd|[]|[\"re_3PgA0999Dashb0rd\"]"});
  // Every verdict that is not a pass, in order: the refund Stripe failed, the 15 cents, the
  // dashboard refund (whose pairwise rules have nothing to compare).
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(expected, ''), coalesce(actual, ''), coalesce(delta, ''), message "
                 "FROM verdicts WHERE reconcile = 'refunds_reach_processor' AND outcome <> 'pass' ORDER BY group_no, position") ==
        std::vector<std::string>{
            "re_3PgA1016Sh0p1fy|status mapped|fail|succeeded|failed||processor re_3PgA1016Sh0p1fy status is 'failed', "
            "expected 'succeeded' for storefront status 'success'",
            "re_3PgA1020Sh0p1fy|amount equal|fail|50.00 USD|49.85 USD|-0.15 USD|processor re_3PgA1020Sh0p1fy amount 49.85 USD "
            "differs from storefront R1020 amount 50.00 USD by -0.15 USD (tolerance 0)",
            "re_3PgA0999Dashb0rd|exists in right|skip||||no storefront record",
            "re_3PgA0999Dashb0rd|exists in left|fail|1 storefront record|none|75.00 USD|no storefront record with key "
            "re_3PgA0999Dashb0rd for processor re_3PgA0999Dashb0rd",
            "re_3PgA0999Dashb0rd|amount equal|skip||||no storefront record",
            "re_3PgA0999Dashb0rd|status mapped|skip||||no storefront record",
            "re_3PgA0999Dashb0rd|lag at -> created|skip||||no storefront record"});
  // Cents read as dollars and cents: R1002's 124999 equals Shopify's "1249.99"; a pending
  // refund is pending in both; times in Unix seconds land within a few seconds of Shopify's.
  CHECK(rows(db, "SELECT group_key, group_concat(DISTINCT outcome) FROM verdicts WHERE reconcile = 'refunds_reach_processor' "
                 "AND group_key IN ('re_3PgA1002Sh0p1fy', 're_3PgA1015Sh0p1fy', 're_3PgA1017Sh0p1fy') GROUP BY group_key "
                 "ORDER BY group_key") ==
        std::vector<std::string>{"re_3PgA1002Sh0p1fy|pass", "re_3PgA1015Sh0p1fy|pass", "re_3PgA1017Sh0p1fy|pass"});
  // The exceptions come after the other reconciliations' (ids 17 to 19), owned by the
  // processor, timed by its Unix seconds, with both sides' amounts in cents.
  CHECK(rows(db, "SELECT id, group_key, rule, severity, system_of_record, record_at, currency, left_amount, right_amount "
                 "FROM exceptions WHERE reconcile = 'refunds_reach_processor' ORDER BY id") ==
        std::vector<std::string>{
            "17|re_3PgA1016Sh0p1fy|status mapped|high|processor|2026-03-21T08:00:02Z|USD|1200|1200",
            "18|re_3PgA1020Sh0p1fy|amount equal|high|processor|2026-03-24T09:15:02Z|USD|5000|4985",
            "19|re_3PgA0999Dashb0rd|exists in left|high|processor|2026-03-23T13:41:00Z|USD|0|7500"});
  // The storefront's refund id leads to its processor group; the Stripe id to the exception.
  auto t = run_seam(ex.dir.path(), "trace R1016 --stack refunds");
  CHECK(t.out.find(" - refunds_reach_processor - key re_3PgA1016Sh0p1fy\n  left: R1016   right: re_3PgA1016Sh0p1fy\n") !=
        std::string::npos);
  auto by_stripe_id = run_seam(ex.dir.path(), "trace re_3PgA1016Sh0p1fy --stack refunds");
  CHECK(by_stripe_id.out.rfind("exceptions about re_3PgA1016Sh0p1fy\n  #17 open  refunds_reach_processor / status mapped\n", 0) ==
        0);
}

TEST_CASE("e2e refunds: inputs are counted and bad rows quarantined with file, line, reason and raw text") {
  Example ex;
  auto r = ex.run();
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT system, path, rows_read, rows_accepted, rows_rejected FROM run_inputs ORDER BY system") ==
        std::vector<std::string>{"erp|" + std::filesystem::weakly_canonical(ex.stack).string() + "/data/erp_customer_refunds.csv|22|15|1",
                                 "processor|" + std::filesystem::weakly_canonical(ex.stack).string() + "/data/stripe_refunds.json|18|18|0",
                                 "storefront|" + std::filesystem::weakly_canonical(ex.stack).string() + "/data/storefront_refunds.ndjson|19|17|2"});
  CHECK(rows(db, "SELECT system, line, reason, raw FROM rejects ORDER BY seq") ==
        std::vector<std::string>{
            "storefront|16|cannot read '12,50' as an amount: a group separator ',' must be followed by 3 digits (is the "
            "decimal separator ','?) (field 'amount', column 'amount')|"
            // a nested record's raw text is its own element (the transaction), not the whole line
            "{\"id\":7701018,\"order_id\":5018,\"kind\":\"refund\",\"gateway\":\"shopify_payments\",\"status\":\"success\",\"m"
            "essage\":null,\"created_at\":\"2026-03-23T08:00:00-04:00\",\"test\":false,\"authorization\":\"re_3PgA1018S"
            "h0p1fy\",\"parent_id\":6601018,\"processed_at\":\"2026-03-23T08:00:00-04:00\",\"currency\":\"USD\",\"amount\""
            ":\"12,50\"}",
            "storefront|17|invalid JSON: The JSON document has an improper structure: missing or superfluous commas, "
            "braces, missing keys, etc.|"
            "{\"id\":\"R1019\",\"order_id\":5019,\"created_at\":\"2026-03-23T09:00:00-04:00\"x,\"processed_at\":\"2026-03-"
            "23T09:00:00-04:00\",\"note\":\"damaged\",\"restock\":true,\"user_id\":799407056,\"transactions\":[{\"id\":770"
            "1019,\"order_id\":5019,\"kind\":\"refund\",\"gateway\":\"shopify_payments\",\"status\":\"success\",\"message\":n"
            "ull,\"created_at\":\"2026-03-23T09:00:00-04:00\",\"test\":false,\"authorization\":\"re_3PgA1019Sh0p1fy\",\""
            "parent_id\":6601019,\"processed_at\":\"2026-03-23T09:00:00-04:00\",\"currency\":\"USD\",\"amount\":\"10.00\"}"
            "],\"order_adjustments\":[],\"duties\":[]}",
            "erp|19|expected 10 fields as in the header, found 11|CR-9022,CREF1022,03/24/2026 9:40 am,\"Patel, "
            "Priya\",,Shopify refund R1021, per Ana,Refunded,DAMAGED,USD,-10.00"});
  CHECK(r.out.find("  storefront  refunds/data/storefront_refunds.ndjson  read 19 = accepted 17 + rejected 2\n") !=
        std::string::npos);
  // The saved search's title rows and its total rows are skipped and counted.
  CHECK(r.out.find("  erp         refunds/data/erp_customer_refunds.csv   read 22 = accepted 15 + rejected 1 + skipped 6 "
                   "(6 by the source's own skips)\n") != std::string::npos);
  CHECK(r.out.find("19 exceptions (19 fail, 0 error), 0 warn, 1 pending, 3 rejected rows\n") != std::string::npos);
}

TEST_CASE("e2e refunds: the run records params, inputs' digests, rule versions, json output") {
  Example ex;
  auto r = ex.run("--format json");
  CHECK(r.exit == 1);
  CHECK(r.out.find("\"exit_code\":1") != std::string::npos);
  CHECK(r.out.find("\"params\":{\"amount_tolerance\":{\"value\":\"0.00\",\"source\":\"default\"},\"lag_minutes\":{\"value\":\"30\",\"source\":\"default\"}}") !=
        std::string::npos);
  CHECK(r.out.find("{\"key\":\"R1012\",\"rule\":\"amount equal\",\"rule_source\":\"refunds/stack.lua:56\",\"outcome\":\"fail\","
                   "\"severity\":\"high\",\"left_ids\":[\"R1012\"],\"right_ids\":[\"CR-9012\"]") != std::string::npos);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT name, value, source FROM run_params ORDER BY name") ==
        std::vector<std::string>{"amount_tolerance|0.00|default", "lag_minutes|30|default"});
  CHECK(rows(db, "SELECT length(digest) FROM run_inputs") == std::vector<std::string>{"64", "64", "64"});
  CHECK(rows(db, "SELECT status, as_of, length(seal) FROM runs") ==
        std::vector<std::string>{"complete|2026-03-24T18:00:00Z|64"});
  CHECK(rows(db, "SELECT kind, source FROM rules WHERE name = 'same accounting month'") ==
        std::vector<std::string>{"same_period|refunds/stack.lua:62"});  // native now: same_month is same_period
}

TEST_CASE("e2e refunds: ops change thresholds with --set and --as-of, and the run records where values came from") {
  Example ex;
  auto r = ex.run("--set lag_minutes=200 --as-of 2026-03-25T00:00:00Z");
  CHECK(r.exit == 1);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT value, source FROM run_params WHERE name = 'lag_minutes'") ==
        std::vector<std::string>{"200|--set"});
  CHECK(rows(db, "SELECT outcome FROM verdicts WHERE group_key = 'R1004' AND rule = 'lag at -> posted_at'") ==
        std::vector<std::string>{"pass"});
  // six hours later the refund is no longer expected: it is missing
  CHECK(rows(db, "SELECT outcome FROM verdicts WHERE group_key = 'R1014' AND rule = 'exists in right'") ==
        std::vector<std::string>{"fail"});
  auto bad = ex.run("--set lag_minutes=lots");
  CHECK(bad.exit == 2);
  CHECK(bad.err == "seam: error: --set lag_minutes=lots: param 'lag_minutes' expects a whole number, found 'lots' "
                   "(declared at refunds/stack.lua:9)\n");
}

TEST_CASE("e2e refunds: trace shows every verdict about a refund, with rule version and source") {
  Example ex;
  ex.run();
  ex.run();
  auto t = run_seam(ex.dir.path(), "trace R1005 --stack refunds");
  CHECK(t.exit == 0);
  CHECK(t.out.find("run 2 (") < t.out.find("run 1 ("));  // newest first
  CHECK(t.out.find("  FAIL    posted once  [unique ") != std::string::npos);
  CHECK(t.out.find("          external_ref 'R1005' appears 2 times in erp: CR-9005, CR-9006; CR-9006 (erp_customer_refunds.csv:10) "
                    "repeats CR-9005 (erp_customer_refunds.csv:9)\n") != std::string::npos);
  CHECK(t.out.find("          first failed in run 1\n") != std::string::npos);
  CHECK(t.out.find("  left: R1005   right: CR-9005, CR-9006\n") != std::string::npos);
  // an ERP id finds its groups too, at refund and order level
  auto byid = run_seam(ex.dir.path(), "trace CR-9006 --stack refunds --format json");
  CHECK(byid.out.find("\"reconcile\":\"order_refund_totals\",\"group_key\":\"5005\"") != std::string::npos);
  CHECK(byid.out.find("\"reconcile\":\"refunds_reach_erp\",\"group_key\":\"R1005\"") != std::string::npos);
  auto none = run_seam(ex.dir.path(), "trace R4242 --stack refunds");
  CHECK(none.out == "no verdicts about 'R4242' in the audit log\n");
}

TEST_CASE("e2e refunds: audit verify passes, then fails on a tampered verdict") {
  Example ex;
  ex.run();
  ex.run();
  auto ok = run_seam(ex.dir.path(), "audit verify --stack refunds");
  CHECK(ok.exit == 0);
  CHECK(ok.out.find("run 1: ok\nrun 2: ok\naudit log verifies; head 3:") == 0);
  {
    Db db(ex.stack + "/seam.db", false);
    db.exec("DROP TRIGGER details_no_update");
    db.exec("UPDATE verdict_details SET delta = '0.00 USD' WHERE run_id = 1 AND delta = '-36.00 USD'");
  }
  auto bad = run_seam(ex.dir.path(), "audit verify --stack refunds");
  CHECK(bad.exit == 1);
  CHECK(bad.out.find("run 1: TAMPERED: verdict rows do not match the sealed verdicts digest") != std::string::npos);
  CHECK(bad.out.find("run 2: ok\n") != std::string::npos);
  CHECK(bad.out.find("audit log does NOT verify") != std::string::npos);
}

TEST_CASE("e2e refunds: check validates without reading data") {
  Example ex;
  std::filesystem::remove(ex.stack + "/data/erp_customer_refunds.csv");
  auto c = run_seam(ex.dir.path(), "check refunds");
  CHECK(c.exit == 0);
  CHECK(c.out == "stack acme-retail-refunds is valid: 2 params, 3 systems, 3 reconciliations, 17 rules\n");
  CHECK_FALSE(std::filesystem::exists(ex.stack + "/seam.db"));
}

TEST_CASE("e2e refunds: ops thresholds file, seam params, and where each value came from in the audit log") {
  Example ex;
  write_file(ex.stack + "/thresholds.lua", "-- set by ops\nlag_minutes = 200\n");
  auto p = run_seam(ex.dir.path(), "params refunds --set amount_tolerance=0.01");
  CHECK(p.exit == 0);
  CHECK(p.out ==
        "name              type     value  source                    range     unit     doc\n"
        "lag_minutes       integer  200    refunds/thresholds.lua:2  0..10080  minutes  longest normal delay between a "
        "storefront refund and its ERP entry\n"
        "amount_tolerance  money    0.01   --set                     >= 0               largest amount difference "
        "accepted as equal (rounding)\n");
  auto r = ex.run();
  CHECK(r.exit == 1);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT name, value, source FROM run_params ORDER BY name") ==
        std::vector<std::string>{"amount_tolerance|0.00|default", "lag_minutes|200|refunds/thresholds.lua:2"});
  CHECK(rows(db, "SELECT outcome FROM verdicts WHERE group_key = 'R1004' AND rule = 'lag at -> posted_at'") ==
        std::vector<std::string>{"pass"});
  write_file(ex.stack + "/thresholds.lua", "lag_minutes = -1\n");
  auto bad = ex.run();
  CHECK(bad.exit == 2);
  CHECK(bad.err == "seam: error: refunds/thresholds.lua:1: param 'lag_minutes' must be at least 0, found -1 "
                   "(declared at refunds/stack.lua:9)\n");
}

TEST_CASE("e2e refunds: the example ships tests, and they pass") {
  auto r = run_seam(SEAM_SOURCE_DIR, "test examples/refunds");
  CHECK(r.exit == 0);
  CHECK(r.out.find("\n11 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("e2e refunds: replay previews a changed tolerance and a changed status map, and writes nothing") {
  Example ex;
  ex.run();
  std::string before = sha256_file_hex(ex.stack + "/seam.db");
  auto tol = run_seam(ex.dir.path(), "replay refunds --set amount_tolerance=40.00 --format json");
  CHECK(tol.exit == 1);
  CHECK(tol.out ==
        "{\"run_id\":1,\"as_of\":\"2026-03-24T18:00:00Z\",\"stack_changed\":false,"
        "\"param_changes\":{\"amount_tolerance\":\"0.00 -> 40.00\"},\"newly_failing\":[],\"newly_passing\":["
        "{\"reconcile\":\"refunds_reach_erp\",\"key\":\"R1012\",\"rule\":\"amount equal\",\"was\":\"fail\",\"now\":\"pass\","
        "\"old_delta\":\"-36.00 USD\",\"new_delta\":null,\"message\":\"\"},"
        "{\"reconcile\":\"order_refund_totals\",\"key\":\"5008\",\"rule\":\"order refunds add up\",\"was\":\"fail\","
        "\"now\":\"pass\",\"old_delta\":\"-20.00 USD\",\"new_delta\":null,\"message\":\"\"},"
        "{\"reconcile\":\"order_refund_totals\",\"key\":\"5012\",\"rule\":\"order refunds add up\",\"was\":\"fail\","
        "\"now\":\"pass\",\"old_delta\":\"-36.00 USD\",\"new_delta\":null,\"message\":\"\"}],\"changed\":[],"
        "\"money_newly_failing\":{},\"money_newly_passing\":{\"(total)\":{\"USD\":\"92.00\"},"
        "\"amount equal\":{\"USD\":\"36.00\"},\"order refunds add up\":{\"USD\":\"56.00\"}}}\n");

  // A changed status map in the stack itself.
  std::string stack = read_file(ex.stack + "/stack.lua");
  stack.replace(stack.find("pending = \"Pending Approval\""), 28, "pending = \"Pending\"");
  write_file(ex.stack + "/stack.lua", stack);
  auto map = run_seam(ex.dir.path(), "replay refunds");
  CHECK(map.exit == 1);
  CHECK(map.out.find("stack: changed since the run\nparams: as the run used them\n\nnewly failing (1)\n") !=
        std::string::npos);
  CHECK(map.out.find("  refunds_reach_erp  R1017  status mapped  pass  fail         erp CR-9017 status is 'Pending "
                     "Approval', expected 'Pending' for storefront status 'pending'\n") != std::string::npos);
  CHECK(map.out.find("newly passing (0)") != std::string::npos);

  // Nothing was written: same bytes, still one run.
  CHECK(sha256_file_hex(ex.stack + "/seam.db") == before);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT count(*) FROM runs") == std::vector<std::string>{"1"});

  // With no change at all, nothing flips and the exit code is 0.
  write_file(ex.stack + "/stack.lua", read_file(std::string(SEAM_SOURCE_DIR) + "/examples/refunds/stack.lua"));
  auto same = run_seam(ex.dir.path(), "replay refunds --run 1");
  CHECK(same.exit == 0);
  CHECK(same.out.find("no verdict changes") != std::string::npos);
}

TEST_CASE("e2e refunds: replay refuses inputs that changed since the run") {
  Example ex;
  ex.run();
  write_file(ex.stack + "/data/storefront_refunds.ndjson",
             read_file(ex.stack + "/data/storefront_refunds.ndjson") +
                 "{\"id\":\"R2000\",\"order_id\":6000,\"transactions\":[{\"status\":\"success\",\"created_at\":"
                 "\"2026-03-24T10:00:00Z\",\"currency\":\"USD\",\"amount\":\"1.00\"}]}\n");
  auto r = run_seam(ex.dir.path(), "replay refunds");
  CHECK(r.exit == 2);
  // The run stored the input's absolute path, and the error names it.
  CHECK(with_dir_as_DIR(r.err, std::filesystem::weakly_canonical(ex.dir.path()).string())
            .find("seam: error: input DIR/refunds/data/storefront_refunds.ndjson (system 'storefront') changed since run 1: "
                  "its digest is ") == 0);
  CHECK(r.err.find("; a replay needs the same bytes\n") != std::string::npos);
  auto missing = run_seam(ex.dir.path(), "replay refunds --run 7");
  CHECK(missing.exit == 2);
  CHECK(missing.err == "seam: error: run 7 is not in refunds/seam.db\n");
}

TEST_CASE("e2e refunds: exceptions live across runs: no duplicates, resolved when fixed, acknowledged, reopened") {
  Example ex;
  ex.run();
  ex.run();  // the same inputs again
  {
    Db db(ex.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT count(*), min(first_run), max(last_run) FROM exceptions") == std::vector<std::string>{"19|1|2"});
    CHECK(rows(db, "SELECT count(*) FROM exceptions WHERE status = 'open'") == std::vector<std::string>{"19"});
  }
  // The ERP team posts the missing refund R1003 and corrects R1012's amount.
  std::string erp = read_file(ex.stack + "/data/erp_customer_refunds.csv");
  std::string original = erp;
  erp.replace(erp.find("USD,-4.00\r\n"), 11, "USD,-40.00\r\n");
  // Rows after the saved search's totals are records too.
  erp += "CR-9003,CREF1003,03/11/2026 5:10 am,\"Lee, Ana\",Sales Order #5003,Shopify refund R1003,Refunded,"
         "NOT_AS_DESCRIBED,USD,-60.00\r\n";
  write_file(ex.stack + "/data/erp_customer_refunds.csv", erp);
  auto third = ex.run();
  CHECK(third.out.find("exceptions across runs: 0 opened, 0 reopened, 16 still open, 3 resolved (seam exceptions)\n") !=
        std::string::npos);
  {
    Db db(ex.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT reconcile, group_key, rule, resolved_run FROM exceptions WHERE status = 'resolved' ORDER BY id") ==
          std::vector<std::string>{"refunds_reach_erp|R1003|exists in right|3", "refunds_reach_erp|R1012|amount equal|3",
                                   "order_refund_totals|5012|order refunds add up|3"});
  }
  auto ack = run_seam(ex.dir.path(), "exceptions ack 2 --note \"ERP team re-posting with the right date\" --by ana --stack refunds");
  CHECK(ack.exit == 0);
  CHECK(ack.out == "exception 2 acknowledged by ana\n");
  auto twice = run_seam(ex.dir.path(), "exceptions ack 1 --note x --by ana --stack refunds");
  CHECK(twice.exit == 2);
  CHECK(twice.err == "seam: error: exception 1 is resolved; only open exceptions can be acknowledged\n");
  auto listed = run_seam(ex.dir.path(), "exceptions --status acknowledged --stack refunds --format json");
  CHECK(listed.out.find("[{\"id\":2,\"status\":\"acknowledged\",\"reconcile\":\"refunds_reach_erp\",\"key\":\"R1004\","
                        "\"rule\":\"lag at -> posted_at\",\"severity\":\"low\",\"age_days\":0,\"first_run\":1,") == 0);

  // The correction is reverted: the amount exception comes back as the same exception.
  write_file(ex.stack + "/data/erp_customer_refunds.csv", original + erp.substr(erp.rfind("CR-9003,")));
  auto fourth = ex.run();
  CHECK(fourth.out.find("exceptions across runs: 0 opened, 2 reopened, 16 still open, 0 resolved") != std::string::npos);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT count(*) FROM exceptions") == std::vector<std::string>{"19"});
  CHECK(rows(db, "SELECT e.event, x.group_key, coalesce(e.by_whom, ''), coalesce(e.note, '') FROM exception_events e "
                 "JOIN exceptions x ON x.id = e.exception_id WHERE e.event <> 'opened' ORDER BY e.id") ==
        std::vector<std::string>{"resolved|R1003||", "resolved|R1012||", "resolved|5012||",
                                 "acknowledged|R1004|ana|ERP team re-posting with the right date", "reopened|R1012||",
                                 "reopened|5012||"});
  CHECK(rows(db, "SELECT status, last_run FROM exceptions WHERE group_key = 'R1004'") ==
        std::vector<std::string>{"acknowledged|4"});
  CHECK_THROWS_AS(db.exec("DELETE FROM exceptions"), AuditError);
}

namespace {
// The first `n` CSV fields of each line after the header (those hold no quoted commas here).
// csv_fields without the header line.
std::vector<std::string> csv_prefix(const std::string& csv, size_t n) {
  std::vector<std::string> out = csv_fields(csv, n);
  if (!out.empty()) out.erase(out.begin());
  return out;
}
}  // namespace

TEST_CASE("e2e refunds: the variance report, oldest and largest first, with its filters and formats") {
  Example ex;
  ex.run();
  auto all = run_seam(ex.dir.path(), "report variance --stack refunds --format csv");
  CHECK(all.exit == 0);
  // Seven provenance rows, then the header.
  CHECK(all.out.rfind("# report: seam report variance: exceptions by age and amount\r\n# stack: acme-retail-refunds\r\n",
                      0) == 0);
  CHECK(csv_body(all.out)[0] == "id,key,system_of_record,reconcile,rule,status,at_stake,delta,age_days,first_seen_at,"
                                "severity,caused_by,consequences,message");
  // Root causes both ways: the order's failure names the refund's, which names its consequence.
  const std::string first = csv_body(all.out)[1];
  CHECK(first.substr(first.find("Z,") + 2) ==
        "high,,\"#13 order_refund_totals 5005 (order refunds add up), explains 80.00 USD\",\"external_ref 'R1005' appears 2 "
        "times in erp: CR-9005, CR-9006; CR-9006 (erp_customer_refunds.csv:10) repeats CR-9005 "
        "(erp_customer_refunds.csv:9)\"");
  CHECK(csv_body(all.out)[2].find(",medium,\"#3 refunds_reach_erp R1005 (posted once), explains 80.00 USD\",,") !=
        std::string::npos);
  // Money at stake is |right - left| of the group's amounts: a refund posted twice puts
  // its amount at stake again; a late or mis-coded one moves no money.
  CHECK(csv_prefix(all.out, 9) ==
        std::vector<std::string>{
            "3,R1005,storefront,refunds_reach_erp,posted once,open,80.00 USD,,0",
            "13,5005,storefront,order_refund_totals,order refunds add up,open,80.00 USD,80.00 USD,0",
            "12,R0999,storefront,refunds_reach_erp,exists in left,open,75.00 USD,75.00 USD,0",
            "19,re_3PgA0999Dashb0rd,processor,refunds_reach_processor,exists in left,open,75.00 USD,75.00 USD,0",
            "1,R1003,storefront,refunds_reach_erp,exists in right,open,60.00 USD,-60.00 USD,0",
            "9,R1013,storefront,refunds_reach_erp,exists in right,open,45.00 USD,-45.00 USD,0",
            "11,R1031,storefront,refunds_reach_erp,exists in left,open,45.00 USD,45.00 USD,0",
            "8,R1012,storefront,refunds_reach_erp,amount equal,open,36.00 USD,-36.00 USD,0",
            "16,5012,storefront,order_refund_totals,order refunds add up,open,36.00 USD,-36.00 USD,0",
            "14,5008,storefront,order_refund_totals,order refunds add up,open,20.00 USD,-20.00 USD,0",
            "15,5008,storefront,order_refund_totals,each partial refund posted,open,20.00 USD,,0",
            "6,R1010,storefront,refunds_reach_erp,exists in right,open,15.00 USD,-15.00 USD,0",
            "7,R1011,storefront,refunds_reach_erp,exists in right,open,5.00 USD,-5.00 USD,0",
            "18,re_3PgA1020Sh0p1fy,processor,refunds_reach_processor,amount equal,open,0.15 USD,-0.15 USD,0",
            "2,R1004,storefront,refunds_reach_erp,lag at -> posted_at,open,0.00 USD,105 min,0",
            "4,R1006,storefront,refunds_reach_erp,reason code kept,open,0.00 USD,,0",
            "5,R1007,storefront,refunds_reach_erp,status mapped,open,0.00 USD,,0",
            "10,R1015,storefront,refunds_reach_erp,same accounting month,open,0.00 USD,,0",
            "17,re_3PgA1016Sh0p1fy,processor,refunds_reach_processor,status mapped,open,0.00 USD,,0"});
  auto big = run_seam(ex.dir.path(), "report variance --stack refunds --format csv --min-amount 40 --reconcile refunds_reach_erp");
  CHECK(csv_prefix(big.out, 2) == std::vector<std::string>{"3,R1005", "12,R0999", "1,R1003", "9,R1013", "11,R1031"});
  auto one = run_seam(ex.dir.path(), "report variance --stack refunds --format json --key R1003");
  CHECK(one.out.find(",\"count\":1,\"exceptions\":[{\"id\":1,\"key\":\"R1003\",\"system_of_record\":\"storefront\","
                     "\"reconcile\":\"refunds_reach_erp\",\"rule\":\"exists in right\",\"status\":\"open\","
                     "\"severity\":\"high\",\"record_at\":\"2026-03-11T09:00:00Z\",\"left_amount\":\"60.00 USD\","
                     "\"right_amount\":\"0.00 USD\",\"at_stake\":\"60.00 USD\",\"delta\":\"-60.00 USD\",\"age_days\":0,") !=
        std::string::npos);
  CHECK(python_json(one.out, "d['report']['filters']") == "{'status': 'unresolved', 'key': 'R1003'}");
  auto cut = run_seam(ex.dir.path(), "report variance --stack refunds --format json --key R1012");
  CHECK(python_json(cut.out, "(d['exceptions'][0]['caused_by'], d['exceptions'][0]['consequences'])") ==
        "([], [{'id': 16, 'reconcile': 'order_refund_totals', 'key': '5012', 'rule': 'order refunds add up', "
        "'explains': '36.00 USD'}])");
  auto body = [](const Invocation& r) { return r.out.substr(r.out.find("\n\n") + 2); };
  CHECK(body(run_seam(ex.dir.path(), "report variance --stack refunds --min-age 1")) == "no exceptions match\n");
  CHECK(body(run_seam(ex.dir.path(), "report variance --stack refunds --status resolved")) == "no exceptions match\n");
  CHECK(body(run_seam(ex.dir.path(), "report variance --stack refunds --until 2026-01-01")) == "no exceptions match\n");
  CHECK(csv_prefix(run_seam(ex.dir.path(), "report variance --stack refunds --format csv --since 2026-01-01").out, 1).size() == 19);
  // --since/--until go by the record time (the refund's), not by when seam saw it.
  CHECK(csv_prefix(run_seam(ex.dir.path(), "report variance --stack refunds --format csv --since 2026-03-19 --until 2026-03-21").out, 2) ==
        std::vector<std::string>{"9,R1013", "11,R1031", "8,R1012", "16,5012"});
  auto bad = run_seam(ex.dir.path(), "report variance --stack refunds --since yesterday");
  CHECK(bad.exit == 2);
  CHECK(bad.err == "seam: error: --since: cannot read 'yesterday' as an ISO 8601 time: expected YYYY-MM-DD\n");
}
