// The daily checkpoint across runs: exceptions age and resolve, the variance and totals
// reports (text, csv, json, html in a real browser), windowed runs, and alerts delivered
// to a file, a command and a webhook on 127.0.0.1.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/http_server.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const std::string kDay1 = "SEAM_NOW=2026-03-24T06:00:00Z", kDay3 = "SEAM_NOW=2026-03-26T06:00:00Z";

struct Checkpoint {
  TempDir dir;
  std::string stack = dir / "refunds";
  Checkpoint() { copy_example("refunds", stack); }
  Invocation seam(const std::string& args, const std::string& env = kDay3) { return run_seam(dir.path(), args, env); }
  // The ERP team posts the missing refund R1003 and corrects R1012's amount.
  void fix_two_erp_entries() {
    std::string erp = read_file(stack + "/data/erp_customer_refunds.csv");
    erp.replace(erp.find("USD,-4.00\r\n"), 11, "USD,-40.00\r\n");
    erp += "CR-9003,CREF1003,03/11/2026 5:10 am,\"Lee, Ana\",Sales Order #5003,Shopify refund R1003,Refunded,"
           "NOT_AS_DESCRIBED,USD,-60.00\r\n";
    write_file(stack + "/data/erp_customer_refunds.csv", erp);
  }
  void add_to_stack(const std::string& lua) { write_file(stack + "/stack.lua", read_file(stack + "/stack.lua") + lua); }
};

}  // namespace

TEST_CASE("checkpoint: run 1 finds exceptions, run 2 on later data ages them and resolves the fixed ones") {
  Checkpoint cp;
  auto first = cp.seam("run refunds", kDay1);
  CHECK(first.exit == 1);
  CHECK(first.out.find("exceptions across runs: 19 opened, 0 reopened, 0 still open, 0 resolved") != std::string::npos);
  cp.fix_two_erp_entries();
  auto second = cp.seam("run refunds", kDay3);
  CHECK(second.exit == 1);
  CHECK(second.out.find("exceptions across runs: 0 opened, 0 reopened, 16 still open, 3 resolved") != std::string::npos);
  auto ack = cp.seam("exceptions ack 2 --note \"ERP re-posting with the right date\" --by ana --stack refunds");
  CHECK(ack.exit == 0);

  // Two days after first detection, oldest first, then by money at stake (|right - left|).
  auto variance = cp.seam("report variance --stack refunds --format csv");
  CHECK(variance.exit == 0);
  CHECK(csv_fields(variance.out, 10) ==
        std::vector<std::string>{
            "id,key,system_of_record,reconcile,rule,status,at_stake,delta,age_days,first_seen_at",
            "3,R1005,storefront,refunds_reach_erp,posted once,open,80.00 USD,,2,2026-03-24T06:00:00Z",
            "13,5005,storefront,order_refund_totals,order refunds add up,open,80.00 USD,80.00 USD,2,2026-03-24T06:00:00Z",
            "12,R0999,storefront,refunds_reach_erp,exists in left,open,75.00 USD,75.00 USD,2,2026-03-24T06:00:00Z",
            "19,re_3PgA0999Dashb0rd,processor,refunds_reach_processor,exists in left,open,75.00 USD,75.00 USD,2,"
            "2026-03-24T06:00:00Z",
            "9,R1013,storefront,refunds_reach_erp,exists in right,open,45.00 USD,-45.00 USD,2,2026-03-24T06:00:00Z",
            "11,R1031,storefront,refunds_reach_erp,exists in left,open,45.00 USD,45.00 USD,2,2026-03-24T06:00:00Z",
            "14,5008,storefront,order_refund_totals,order refunds add up,open,20.00 USD,-20.00 USD,2,2026-03-24T06:00:00Z",
            "15,5008,storefront,order_refund_totals,each partial refund posted,open,20.00 USD,,2,2026-03-24T06:00:00Z",
            "6,R1010,storefront,refunds_reach_erp,exists in right,open,15.00 USD,-15.00 USD,2,2026-03-24T06:00:00Z",
            "7,R1011,storefront,refunds_reach_erp,exists in right,open,5.00 USD,-5.00 USD,2,2026-03-24T06:00:00Z",
            "18,re_3PgA1020Sh0p1fy,processor,refunds_reach_processor,amount equal,open,0.15 USD,-0.15 USD,2,"
            "2026-03-24T06:00:00Z",
            "2,R1004,storefront,refunds_reach_erp,lag at -> posted_at,acknowledged,0.00 USD,105 min,2,2026-03-24T06:00:00Z",
            "4,R1006,storefront,refunds_reach_erp,reason code kept,open,0.00 USD,,2,2026-03-24T06:00:00Z",
            "5,R1007,storefront,refunds_reach_erp,status mapped,open,0.00 USD,,2,2026-03-24T06:00:00Z",
            "10,R1015,storefront,refunds_reach_erp,same accounting month,open,0.00 USD,,2,2026-03-24T06:00:00Z",
            // Stripe failed R1016's refund: both sides hold 12.00, so no money is at stake in the
            // comparison, though the customer never got it.
            "17,re_3PgA1016Sh0p1fy,processor,refunds_reach_processor,status mapped,open,0.00 USD,,2,2026-03-24T06:00:00Z"});
  // A day later everything is a day older.
  auto later = cp.seam("report variance --stack refunds --format csv --key R1013", "SEAM_NOW=2026-03-27T07:00:00Z");
  CHECK(csv_fields(later.out, 9)[1] == "9,R1013,storefront,refunds_reach_erp,exists in right,open,45.00 USD,-45.00 USD,3");
  CHECK(csv_fields(cp.seam("report variance --stack refunds --format csv --min-age 3").out, 1).size() == 1);  // header only

  auto resolved = cp.seam("report variance --stack refunds --status resolved --format json");
  CHECK(resolved.out.find("{\"id\":1,\"key\":\"R1003\",\"system_of_record\":\"storefront\",\"reconcile\":"
                          "\"refunds_reach_erp\",\"rule\":\"exists in right\",\"status\":\"resolved\",\"severity\":\"high\",\"record_at\":"
                          "\"2026-03-11T09:00:00Z\",\"left_amount\":\"60.00 USD\",\"right_amount\":\"0.00 USD\","
                          "\"at_stake\":\"60.00 USD\",\"delta\":\"-60.00 USD\",\"age_days\":2,") != std::string::npos);

  // Totals: each key once per period and status; net variance is right - left. The order
  // level's money is the refund level's (its failures name the refunds as causes): counted
  // once, as the refunds', in the "all, counted once" rows.
  const std::string header = ",status,reconcile,keys,exceptions,left_total,right_total,net_variance,"
                             "explained_by_causes,net_counted_once,at_stake_counted_once";
  auto month = cp.seam("report totals --stack refunds --status all --format csv");
  CHECK(month.exit == 0);
  CHECK(csv_body(month.out) ==
        std::vector<std::string>{
            "month" + header,
            // The stack keeps its books in New York (accounting_zone): R1015, refunded at 23:50 on
            // 28 February there, is February's.
            "2026-02,open,refunds_reach_erp,1,1,30.00 USD,30.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD",
            "2026-02,open,\"all, counted once\",1,1,,,,,0.00 USD,0.00 USD",
            "2026-03,acknowledged,refunds_reach_erp,1,1,18.00 USD,18.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD",
            "2026-03,acknowledged,\"all, counted once\",1,1,,,,,0.00 USD,0.00 USD",
            // 5005 (R1005 posted twice, +80.00) and 5008 (R1010 and R1011 missing, -20.00).
            "2026-03,open,order_refund_totals,2,3,120.00 USD,180.00 USD,60.00 USD,60.00 USD,0.00 USD,0.00 USD",
            // R1005 +80, R1010 -15, R1011 -5, R1013 -45, R1031 +45, R0999 +75.
            "2026-03,open,refunds_reach_erp,8,8,200.49 USD,335.49 USD,135.00 USD,0.00 USD,135.00 USD,265.00 USD",
            // At the processor: R1016 failed (12.00 both sides), R1020 0.15 short, the dashboard's +75.00.
            "2026-03,open,refunds_reach_processor,3,3,62.00 USD,136.85 USD,74.85 USD,0.00 USD,74.85 USD,75.15 USD",
            "2026-03,open,\"all, counted once\",13,14,,,,,209.85 USD,340.15 USD",
            // R1012's -36.00 resolved at both levels, and R1003's -60.00: 96.00 cleared, not 132.00.
            "2026-03,resolved,order_refund_totals,1,1,40.00 USD,4.00 USD,-36.00 USD,-36.00 USD,0.00 USD,0.00 USD",
            "2026-03,resolved,refunds_reach_erp,2,2,100.00 USD,4.00 USD,-96.00 USD,0.00 USD,-96.00 USD,96.00 USD",
            "2026-03,resolved,\"all, counted once\",3,3,,,,,-96.00 USD,96.00 USD"});
  auto week = cp.seam("report totals --stack refunds --status all --period week --format csv");
  CHECK(csv_body(week.out) ==
        std::vector<std::string>{
            "week" + header,
            "2026-W09,open,refunds_reach_erp,1,1,30.00 USD,30.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD",
            "2026-W09,open,\"all, counted once\",1,1,,,,,0.00 USD,0.00 USD",
            "2026-W11,acknowledged,refunds_reach_erp,1,1,18.00 USD,18.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD",
            "2026-W11,acknowledged,\"all, counted once\",1,1,,,,,0.00 USD,0.00 USD",
            "2026-W11,open,order_refund_totals,2,3,120.00 USD,180.00 USD,60.00 USD,60.00 USD,0.00 USD,0.00 USD",
            "2026-W11,open,refunds_reach_erp,3,3,135.49 USD,215.49 USD,80.00 USD,0.00 USD,80.00 USD,80.00 USD",
            "2026-W11,open,\"all, counted once\",5,6,,,,,80.00 USD,80.00 USD",
            "2026-W11,resolved,refunds_reach_erp,1,1,60.00 USD,0.00 USD,-60.00 USD,0.00 USD,-60.00 USD,60.00 USD",
            "2026-W11,resolved,\"all, counted once\",1,1,,,,,-60.00 USD,60.00 USD",
            // R1010 and R1011 fall in week 12, the order they explain (5008) in week 11.
            "2026-W12,open,refunds_reach_erp,4,4,65.00 USD,45.00 USD,-20.00 USD,0.00 USD,-20.00 USD,110.00 USD",
            "2026-W12,open,refunds_reach_processor,1,1,12.00 USD,12.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD",
            "2026-W12,open,\"all, counted once\",5,5,,,,,-20.00 USD,110.00 USD",
            "2026-W12,resolved,order_refund_totals,1,1,40.00 USD,4.00 USD,-36.00 USD,-36.00 USD,0.00 USD,0.00 USD",
            "2026-W12,resolved,refunds_reach_erp,1,1,40.00 USD,4.00 USD,-36.00 USD,0.00 USD,-36.00 USD,36.00 USD",
            "2026-W12,resolved,\"all, counted once\",2,2,,,,,-36.00 USD,36.00 USD",
            "2026-W13,open,refunds_reach_erp,1,1,0.00 USD,75.00 USD,75.00 USD,0.00 USD,75.00 USD,75.00 USD",
            "2026-W13,open,refunds_reach_processor,2,2,50.00 USD,124.85 USD,74.85 USD,0.00 USD,74.85 USD,75.15 USD",
            "2026-W13,open,\"all, counted once\",3,3,,,,,149.85 USD,150.15 USD"});
  // One reconciliation alone: its causes are not in the report, so it carries all its money.
  auto day = cp.seam("report totals --stack refunds --period day --reconcile order_refund_totals --format json");
  // Rows below the report's provenance: what was asked, of which log and runs, at which head.
  CHECK(python_json(day.out, "d['report']['filters']") ==
        "{'status': 'unresolved', 'reconcile': 'order_refund_totals', 'period': 'day', 'zone': "
        "\"America/New_York (the stack's accounting_zone)\"}");
  CHECK(python_json(day.out, "(d['report']['stack'], d['report']['runs'], d['report']['chain_head'].startswith('4:'))") ==
        "('acme-retail-refunds', {'count': 2, 'complete': 2, 'first': 1, 'last': 2, 'last_started_at': "
        "'2026-03-26T06:00:00Z', 'last_status': 'complete'}, True)");
  CHECK(day.out.substr(day.out.find("\"period\":\"day\",\"rows\":") + 22) ==
        "[{\"period\":\"2026-03-12\",\"status\":\"open\",\"currency\":\"USD\",\"reconcile\":\"order_refund_totals\","
        "\"keys\":1,\"exceptions\":1,\"left_total\":\"80.00 USD\",\"right_total\":\"160.00 USD\",\"net_variance\":"
        "\"80.00 USD\",\"explained_by_causes\":\"0.00 USD\",\"net_counted_once\":\"80.00 USD\","
        "\"at_stake_counted_once\":\"80.00 USD\"},"
        "{\"period\":\"2026-03-12\",\"status\":\"open\",\"currency\":\"USD\",\"reconcile\":null,\"keys\":1,"
        "\"exceptions\":1,\"left_total\":null,\"right_total\":null,\"net_variance\":null,\"explained_by_causes\":null,"
        "\"net_counted_once\":\"80.00 USD\",\"at_stake_counted_once\":\"80.00 USD\"},"
        "{\"period\":\"2026-03-14\",\"status\":\"open\",\"currency\":\"USD\",\"reconcile\":\"order_refund_totals\","
        "\"keys\":1,\"exceptions\":2,\"left_total\":\"40.00 USD\",\"right_total\":\"20.00 USD\",\"net_variance\":"
        "\"-20.00 USD\",\"explained_by_causes\":\"0.00 USD\",\"net_counted_once\":\"-20.00 USD\","
        "\"at_stake_counted_once\":\"20.00 USD\"},"
        "{\"period\":\"2026-03-14\",\"status\":\"open\",\"currency\":\"USD\",\"reconcile\":null,\"keys\":1,"
        "\"exceptions\":2,\"left_total\":null,\"right_total\":null,\"net_variance\":null,\"explained_by_causes\":null,"
        "\"net_counted_once\":\"-20.00 USD\",\"at_stake_counted_once\":\"20.00 USD\"}]}\n");
  auto text = cp.seam("report totals --stack refunds --since 2026-03-19 --until 2026-03-21");
  CHECK(text.out.rfind("seam report totals: variance per month and status\nstack acme-retail-refunds - audit log " +
                           std::filesystem::weakly_canonical(cp.stack).string() + "/seam.db - runs 1-2 (2 complete; "
                           "the latest, run 2, started 2026-03-26T06:00:00Z, complete)\nfilters: status unresolved, "
                           "since 2026-03-19T00:00:00Z, until 2026-03-21T00:00:00Z, period month, zone America/New_York (the stack's "
                           "accounting_zone) - chain head 4:",
                       0) == 0);
  CHECK(text.out.substr(text.out.find("\n\n") + 2) ==
        "month    status  reconciliation     keys  exceptions  left total  right total  net variance  explained by causes  "
        "net, counted once  at stake, counted once\n"
        "2026-03  open    refunds_reach_erp  2     2           45.00 USD   45.00 USD    0.00 USD      0.00 USD             "
        "0.00 USD           90.00 USD\n"
        "2026-03  open    all, counted once  2     2                                                                       "
        "0.00 USD           90.00 USD\n");
  // The books are kept in New York: R1015, refunded at 23:50 on 28 February there (04:50 on
  // 1 March UTC), is February's, the cut-off its "same accounting month" rule flags.
  auto books = cp.seam("report totals --stack refunds --zone America/New_York --format csv");
  CHECK(csv_body(books.out)[1] ==
        "2026-02,open,refunds_reach_erp,1,1,30.00 USD,30.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD");
  // Given the log alone, the zone comes from the stack its latest run was of.
  CHECK(csv_body(cp.seam("report totals --db " + cp.stack + "/seam.db --format csv").out)[1] ==
        "2026-02,open,refunds_reach_erp,1,1,30.00 USD,30.00 USD,0.00 USD,0.00 USD,0.00 USD,0.00 USD");
  // In UTC, asked for, it is March's.
  CHECK(cp.seam("report totals --stack refunds --format csv --key R1015 --zone UTC").out.find(
            "\n2026-03,open,refunds_reach_erp,1,") != std::string::npos);
  auto unknown = cp.seam("report totals --stack refunds --zone Mars/Base");
  CHECK(unknown.exit == 2);
  CHECK(unknown.err ==
        "seam: error: --zone: unknown time zone 'Mars/Base' (an IANA name such as America/New_York, or UTC)\n");
  CHECK(cp.seam("report totals --stack refunds --period year").exit == 2);
}

TEST_CASE("checkpoint: the breakdown report groups by age bucket, severity, reconciliation and rule, money once") {
  Checkpoint cp;
  cp.seam("run refunds", kDay1);
  // Five weeks later a new refund of 1,234.00 that never reached the ERP.
  std::ofstream(cp.stack + "/data/storefront_refunds.ndjson", std::ios::app)
      << "{\"id\":\"R1098\",\"order_id\":5098,\"transactions\":[{\"status\":\"success\",\"created_at\":"
         "\"2026-03-23T10:00:00Z\",\"currency\":\"USD\",\"amount\":\"1234.00\",\"authorization\":\"re_1098\"}]}\n";
  // Missing from the ERP and from Stripe: two exceptions, each its reconciliation's money.
  CHECK(cp.seam("run refunds", "SEAM_NOW=2026-05-01T06:00:00Z").out.find("exceptions across runs: 2 opened,") !=
        std::string::npos);
  const std::string june = "SEAM_NOW=2026-06-01T06:00:00Z";
  // 19 exceptions first seen on 24 March (69 days), two on 1 May (31 days); every bucket listed.
  CHECK(csv_body(cp.seam("report breakdown --stack refunds --by age --format csv", june).out) ==
        std::vector<std::string>{"age,exceptions,keys,oldest_days,at_stake_counted_once,net_counted_once",
                                 "0-30 days,0,0,0,,", "31-60 days,2,2,31,2468.00 USD,-2468.00 USD",
                                 // 18 keys: 5008 fails two rules; its 20.00 and 5005's 80.00 are the refunds'.
                                 "61-90 days,19,18,69,436.15 USD,113.85 USD", "over 90 days,0,0,0,,"});
  CHECK(csv_body(cp.seam("report breakdown --stack refunds --by severity --format csv", june).out) ==
        std::vector<std::string>{"severity,exceptions,keys,oldest_days,at_stake_counted_once,net_counted_once",
                                 "high,12,12,69,2784.15 USD,-2474.15 USD", "medium,8,8,69,120.00 USD,120.00 USD",
                                 "low,1,1,69,0.00 USD,0.00 USD"});
  CHECK(csv_body(cp.seam("report breakdown --stack refunds --format csv", june).out) ==
        std::vector<std::string>{"reconcile,exceptions,keys,oldest_days,at_stake_counted_once,net_counted_once",
                                 "order_refund_totals,4,3,69,0.00 USD,0.00 USD",
                                 "refunds_reach_erp,13,13,69,1595.00 USD,-1195.00 USD",
                                 "refunds_reach_processor,4,4,69,1309.15 USD,-1159.15 USD"});
  auto rules = csv_body(cp.seam("report breakdown --stack refunds --by rule --format csv", june).out);
  REQUIRE(rules.size() == 15);
  CHECK(rules[5] == "refunds_reach_erp / exists in right,5,5,69,1359.00 USD,-1359.00 USD");
  CHECK(rules[13] == "refunds_reach_processor / exists in right,1,1,31,1234.00 USD,-1234.00 USD");
  // The variance report's top N: by age (the default) the oldest, by amount the largest.
  CHECK(csv_fields(cp.seam("report variance --stack refunds --format csv --limit 2", june).out, 2) ==
        std::vector<std::string>{"id,key", "3,R1005", "13,5005"});
  auto top = cp.seam("report variance --stack refunds --format csv --sort amount --limit 2", june);
  CHECK(csv_fields(top.out, 2) == std::vector<std::string>{"id,key", "20,R1098", "21,re_1098"});
  CHECK(top.out.find("\"# filters: status unresolved, sort amount, limit 2\"") != std::string::npos);
  // Text for people: readable headers and thousands separators, under the report's provenance.
  auto text = cp.seam("report breakdown --stack refunds --by age", june).out;
  CHECK(text.rfind("seam report breakdown: exceptions by age\n", 0) == 0);
  CHECK(text.find("filters: status unresolved, by age - chain head ") != std::string::npos);
  CHECK(text.find("31-60 days    2           2     31             2,468.00 USD            -2,468.00 USD\n") !=
        std::string::npos);
  CHECK(cp.seam("report breakdown --stack refunds --by month").exit == 2);
}

TEST_CASE("checkpoint: the HTML report is one self-contained page a browser shows with its tables and chart") {
  Checkpoint cp;
  cp.seam("run refunds", kDay1);
  cp.fix_two_erp_entries();
  cp.seam("run refunds", kDay3);
  auto html = cp.seam("report variance --stack refunds --format html");
  CHECK(html.exit == 0);
  // Nothing fetched: no script, no stylesheet or image from elsewhere.
  CHECK(html.out.find("<script") == std::string::npos);
  CHECK(html.out.find("http://") == std::string::npos);
  CHECK(html.out.find("https://") == std::string::npos);
  write_file(cp.dir / "variance.html", html.out);

  TempDir profile;
  std::string cmd = "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                    "--disable-background-networking --no-first-run --user-data-dir=" + shell_quote(profile.path()) +
                    " --dump-dom " + shell_quote("file://" + (cp.dir / "variance.html")) + " > " +
                    shell_quote(cp.dir / "dom.html") + " 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string dom = read_file(cp.dir / "dom.html");
  CHECK(dom.find("<h1>Variance report: exceptions by age and amount</h1>") != std::string::npos);
  CHECK(dom.find("<dt>exceptions</dt><dd>16</dd>") != std::string::npos);
  // Open and acknowledged apart, each key's money once (5005's 80.00 is R1005's).
  CHECK(dom.find("<dt>open</dt><dd>16, 340.15 USD at stake</dd>") != std::string::npos);
  CHECK(dom.find("<dt>acknowledged</dt>") == std::string::npos);  // none acknowledged: no such figure
  CHECK(dom.find("<dt>oldest</dt><dd>2 days</dd>") != std::string::npos);
  // The chart shows the exceptions the report lists (the unresolved ones): all 16 were open
  // after both runs, with a net variance of 209.85 USD counted once.
  CHECK(dom.find("data-label=\"run 1 2026-03-24\" data-value=\"16\"") != std::string::npos);
  CHECK(dom.find("data-label=\"run 2 2026-03-26\" data-value=\"16\"") != std::string::npos);
  CHECK(dom.find("data-label=\"run 1 2026-03-24\" data-value=\"209.85 USD\"") != std::string::npos);
  CHECK(dom.find("data-label=\"run 2 2026-03-26\" data-value=\"209.85 USD\"") != std::string::npos);
  // The first row of the table as the browser parsed it.
  CHECK(dom.find("<tr><td class=\"num\"><a href=\"#x3\">3</a></td><td>R1005</td><td>storefront</td><td>refunds_reach_erp</td>"
                 "<td>posted once</td><td>open</td><td class=\"num\">80.00 USD</td><td class=\"num\"></td><td class=\"num\">2</td>") !=
        std::string::npos);

  // Drill-down: every id in the table links to its section on the same page, which the
  // browser parsed with the group's records, the verdict, the rule and the cause (linked).
  size_t links = 0;
  for (size_t at = dom.find("<td class=\"num\"><a href=\"#x"); at != std::string::npos;
       at = dom.find("<td class=\"num\"><a href=\"#x", at + 1), ++links) {
    const size_t from = at + std::string("<td class=\"num\"><a href=\"#").size();
    const std::string anchor = dom.substr(from, dom.find('"', from) - from);
    CAPTURE(anchor);
    CHECK(dom.find("<section class=\"detail\" id=\"" + anchor + "\">") != std::string::npos);
  }
  CHECK(links == 16);  // every exception listed: 13 at the ERP and order levels, 3 at Stripe
  const std::string x13 = dom.substr(dom.find("<section class=\"detail\" id=\"x13\">"));
  CHECK(x13.rfind("<section class=\"detail\" id=\"x13\">\n<h3>#13 order_refund_totals 5005: order refunds add up</h3>", 0) ==
        0);
  CHECK(x13.find("<dt>records</dt><dd>left: R1005; right: CR-9005, CR-9006</dd>") < x13.find("</section>"));
  CHECK(x13.find("<dt>expected, actual</dt><dd>80.00 USD; 160.00 USD</dd>") < x13.find("</section>"));
  CHECK(x13.find("<dt>caused by</dt><dd><a href=\"#x3\">#3 refunds_reach_erp R1005 (posted once), explains 80.00 USD</a>") <
        x13.find("</section>"));
  CHECK(x13.find("<dt>rule</dt><dd>amount_equal at refunds/stack.lua:") < x13.find("</section>"));
  // Following a link: the page opened at #x3 is the same page, its target the cause's section.
  cmd = "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
        "--user-data-dir=" + shell_quote(profile.path()) + " --dump-dom " +
        shell_quote("file://" + (cp.dir / "variance.html") + "#x3") + " > " + shell_quote(cp.dir / "dom3.html") +
        " 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string dom3 = read_file(cp.dir / "dom3.html");
  CHECK(dom3.find("<section class=\"detail\" id=\"x3\">\n<h3>#3 refunds_reach_erp R1005: posted once</h3>") !=
        std::string::npos);
  CHECK(dom3.find("<dt>consequences</dt><dd><a href=\"#x13\">") != std::string::npos);
  // The provenance block: stack, log, runs and head, under the title.
  CHECK(dom.find("<dt>stack</dt><dd>acme-retail-refunds</dd>") != std::string::npos);
  CHECK(dom.find("<dt>filters</dt><dd>status unresolved</dd>") != std::string::npos);
  const size_t head = dom.find("<dt>chain head</dt><dd>");
  REQUIRE(head != std::string::npos);
  CHECK(dom.substr(head + 23, dom.find("</dd>", head) - head - 23) ==
        lines_of(cp.seam("audit head --stack refunds").out)[0]);  // the head it was made at

  auto totals = cp.seam("report totals --stack refunds --status all --format html");
  write_file(cp.dir / "totals.html", totals.out);
  cmd = "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
        "--user-data-dir=" + shell_quote(profile.path()) + " --dump-dom " +
        shell_quote("file://" + (cp.dir / "totals.html")) + " > " + shell_quote(cp.dir / "dom2.html") + " 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string dom2 = read_file(cp.dir / "dom2.html");
  CHECK(dom2.find("<tr><td>2026-03</td><td>resolved</td><td>all, counted once</td><td class=\"num\">3</td>"
                  "<td class=\"num\">3</td><td class=\"num\"></td><td class=\"num\"></td><td class=\"num\"></td>"
                  "<td class=\"num\"></td><td class=\"num\">-96.00 USD</td><td class=\"num\">96.00 USD</td></tr>") !=
        std::string::npos);
  // Open, acknowledged and resolved money apart, never one figure.
  CHECK(dom2.find("<dt>open: net variance</dt><dd>209.85 USD</dd>") != std::string::npos);
  CHECK(dom2.find("<dt>open: at stake</dt><dd>340.15 USD</dd>") != std::string::npos);
  CHECK(dom2.find("<dt>resolved: net variance</dt><dd>-96.00 USD</dd>") != std::string::npos);
  // Every status charted (--status all): 19 open after run 1, 16 after run 2; the net
  // variance counted once, 113.85 then 209.85 USD.
  CHECK(dom2.find("data-label=\"run 1 2026-03-24\" data-value=\"19\"") != std::string::npos);
  CHECK(dom2.find("data-label=\"run 1 2026-03-24\" data-value=\"113.85 USD\"") != std::string::npos);
  CHECK(dom2.find("data-label=\"run 2 2026-03-26\" data-value=\"209.85 USD\"") != std::string::npos);
  // The chart honours the filters: one reconciliation, its own money.
  auto orders = cp.seam("report totals --stack refunds --status all --reconcile order_refund_totals --format html");
  CHECK(orders.out.find("data-label=\"run 1 2026-03-24\" data-value=\"4\"") != std::string::npos);
  CHECK(orders.out.find("data-label=\"run 1 2026-03-24\" data-value=\"24.00 USD\"") != std::string::npos);
}

TEST_CASE("checkpoint: a windowed run evaluates only the groups whose record time falls inside it") {
  Checkpoint cp;
  auto r = cp.seam("run refunds --since 2026-03-12 --until 2026-03-15 --format json");
  CHECK(r.exit == 1);
  CHECK(r.out.find("\"name\":\"refunds_reach_erp\",\"left\":\"storefront\",\"right\":\"erp\",\"groups\":4,"
                   "\"outside_window\":15,") != std::string::npos);
  CHECK(r.out.find("\"name\":\"order_refund_totals\",\"left\":\"storefront\",\"right\":\"erp\",\"groups\":4,"
                   "\"outside_window\":12,") != std::string::npos);
  {
    Db db(cp.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT reconcile, group_key, rule, record_at FROM exceptions ORDER BY id") ==
          std::vector<std::string>{
              "refunds_reach_erp|R1005|posted once|2026-03-12T13:00:00Z",
              "refunds_reach_erp|R1006|reason code kept|2026-03-12T16:20:00Z",
              "refunds_reach_erp|R1007|status mapped|2026-03-13T11:00:00Z",
              "order_refund_totals|5005|order refunds add up|2026-03-12T13:00:00Z",
              "order_refund_totals|5008|order refunds add up|2026-03-14T10:00:00Z",
              "order_refund_totals|5008|each partial refund posted|2026-03-14T10:00:00Z"});
    CHECK(rows(db, "SELECT window_since, window_until FROM runs") ==
          std::vector<std::string>{"2026-03-12T00:00:00Z|2026-03-15T00:00:00Z"});
    CHECK(rows(db, "SELECT DISTINCT group_key FROM verdicts WHERE reconcile = 'refunds_reach_erp' ORDER BY 1") ==
          std::vector<std::string>{"R1005", "R1006", "R1007", "R1009"});
  }
  // A later full run does not resolve what the window did not look at twice; it opens the rest.
  auto full = cp.seam("run refunds");
  CHECK(full.out.find("exceptions across runs: 13 opened, 0 reopened, 6 still open, 0 resolved") != std::string::npos);
  CHECK(cp.seam("audit verify --stack refunds").exit == 0);

  auto backwards = cp.seam("run refunds --since 2026-03-15 --until 2026-03-12");
  CHECK(backwards.exit == 2);
  CHECK(backwards.err == "seam: error: --until 2026-03-12 must be later than --since 2026-03-15\n");
  auto bad = cp.seam("run refunds --since tomorrow");
  CHECK(bad.exit == 2);
  CHECK(bad.err.rfind("seam: error: --since: cannot read 'tomorrow' as an ISO 8601 time", 0) == 0);
}

TEST_CASE("checkpoint: new exceptions go to a file, a command and a webhook that fails once, then recovers") {
  Checkpoint cp;
  HttpServer hook({500, 200});
  cp.add_to_stack(
      "\nalert \"ops-file\" { to = ndjson_file { path = \"alerts.ndjson\" }, min_severity = \"high\" }\n"
      "alert \"pager\" { to = command { \"sh\", \"-c\", \"cat > paged.json\" }, min_severity = \"critical\" }\n"
      "alert \"finance\" { to = webhook { url = \"" + hook.url() + "\" }, min_severity = \"medium\", attempts = 3, "
      "backoff_ms = 20 }\n");
  auto run = cp.seam("run refunds", kDay1);
  CHECK(run.exit == 1);
  // No rule is critical: the pager has nothing to say, so it gets no delivery at all.
  CHECK(run.out.find("alert ops-file (ndjson_file " + cp.stack + "/alerts.ndjson): 10 exceptions delivered after 1 attempt\n") !=
        std::string::npos);
  CHECK(run.out.find("alert finance (webhook " + hook.url() + "): 18 exceptions delivered after 2 attempts\n") !=
        std::string::npos);
  CHECK(run.out.find("alert pager") == std::string::npos);
  CHECK(!std::filesystem::exists(cp.stack + "/paged.json"));

  // The file: one line per high-severity exception, in id order.
  auto lines = lines_of(read_file(cp.stack + "/alerts.ndjson"));
  REQUIRE(lines.size() == 10);
  CHECK(lines[0] == "{\"stack\":\"acme-retail-refunds\",\"run_id\":1,\"alert\":\"ops-file\",\"id\":1,\"event\":\"opened\","
                    "\"reconcile\":\"refunds_reach_erp\",\"key\":\"R1003\",\"rule\":\"exists in right\",\"severity\":\"high\","
                    "\"status\":\"open\",\"system_of_record\":\"storefront\",\"record_at\":\"2026-03-11T09:00:00Z\","
                    "\"left_amount\":\"60.00 USD\",\"right_amount\":\"0.00 USD\",\"delta\":\"-60.00 USD\",\"message\":"
                    "\"no erp record with key R1003 for storefront R1003, past the 30 min lag window\","
                    "\"first_seen_at\":\"2026-03-24T06:00:00Z\"}");
  std::vector<std::string> keys;
  for (const auto& l : lines) keys.push_back(l.substr(l.find("\"key\":") + 7, l.find("\",\"rule\"") - l.find("\"key\":") - 7));
  CHECK(keys == std::vector<std::string>{"R1003", "R1005", "R1010", "R1011", "R1012", "R1013", "5008",
                                         "re_3PgA1016Sh0p1fy", "re_3PgA1020Sh0p1fy", "re_3PgA0999Dashb0rd"});

  // The webhook: the same payload twice (500, then 200), each attempt in the audit log.
  auto bodies = hook.bodies();
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0] == bodies[1]);
  CHECK(bodies[0].rfind("{\"stack\":\"acme-retail-refunds\",\"run_id\":1,\"alert\":\"finance\",\"exceptions\":[{\"id\":1,", 0) == 0);
  {
    Db db(cp.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT d.alert, d.status, d.exceptions, a.attempt, a.ok, coalesce(a.error, '') FROM alert_attempts a "
                   "JOIN alert_deliveries d ON d.id = a.delivery_id ORDER BY d.id, a.attempt") ==
          std::vector<std::string>{"ops-file|delivered|10|1|1|", "finance|delivered|18|1|0|POST " + hook.url() + ": HTTP 500",
                                   "finance|delivered|18|2|1|"});
  }
  auto listed = cp.seam("alerts --stack refunds");
  CHECK(listed.exit == 0);
  // A run over the same data opens nothing new, so nothing goes out.
  auto again = cp.seam("run refunds", kDay3);
  CHECK(again.out.find("alert ") == std::string::npos);
  CHECK(hook.requests() == 2);
}

TEST_CASE("checkpoint: a webhook that stays down is recorded as failed, listed, and delivered by a retry") {
  Checkpoint cp;
  std::string url;
  int port = 0;
  {
    HttpServer gone({200});
    url = gone.url();
    port = gone.port();
  }  // nothing listens there any more
  cp.add_to_stack("\nalert \"finance\" { to = webhook { url = \"" + url +
                  "\" }, min_severity = \"high\", attempts = 2, backoff_ms = 10, timeout_seconds = 5 }\n"
                  "alert \"audit\" { to = command { \"sh\", \"-c\", \"cat >> received.json; exit 3\" }, "
                  "min_severity = \"high\", attempts = 1 }\n");
  auto run = cp.seam("run refunds", kDay1);
  CHECK(run.exit == 1);
  CHECK(run.out.find("alert finance (webhook " + url + "): 10 exceptions failed after 2 attempts: POST " + url) !=
        std::string::npos);
  CHECK(run.out.find("alert audit (command sh): 10 exceptions failed after 1 attempt: sh exited with status 3 "
                     "(seam alerts retry)\n") != std::string::npos);
  CHECK(run.err.find("seam: warning: alert finance was not delivered after 2 attempts") != std::string::npos);
  // The command did get the JSON on its stdin before it failed.
  CHECK(read_file(cp.stack + "/received.json").rfind("{\"stack\":\"acme-retail-refunds\",\"run_id\":1,\"alert\":\"audit\"", 0) == 0);

  auto failed = cp.seam("alerts --stack refunds --status failed --format json");
  CHECK(failed.exit == 1);
  CHECK(failed.out.rfind("[{\"id\":2,\"run\":1,\"alert\":\"audit\",\"kind\":\"command\",\"target\":\"sh\",\"exceptions\":10,"
                         "\"status\":\"failed\",\"attempts\":1,", 0) == 0);
  CHECK(failed.out.find("{\"id\":1,\"run\":1,\"alert\":\"finance\",\"kind\":\"webhook\",\"target\":\"" + url +
                        "\",\"exceptions\":10,\"status\":\"failed\",\"attempts\":2,") != std::string::npos);

  // The receiver is back where it was. (Pointing the stored delivery at another URL by hand
  // would be an edit outside seam, which the audit chain refuses to seal over.)
  HttpServer back({200}, port);
  auto retried = cp.seam("alerts retry 1 --stack refunds --format json");
  CHECK(retried.exit == 0);
  CHECK(retried.out.find("\"alert\":\"finance\",\"kind\":\"webhook\",\"target\":\"" + back.url() +
                         "\",\"exceptions\":10,\"status\":\"delivered\",\"attempts\":3,") != std::string::npos);
  REQUIRE(back.bodies().size() == 1);
  CHECK(back.bodies()[0].find("\"key\":\"5008\"") != std::string::npos);
  auto none = cp.seam("alerts retry 1 --stack refunds");
  CHECK(none.exit == 2);
  CHECK(none.err == "seam: error: no failed or pending alert delivery 1 (see seam alerts --status all)\n");
  Db db(cp.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT attempt, ok FROM alert_attempts WHERE delivery_id = 1 ORDER BY attempt") ==
        std::vector<std::string>{"1|0", "2|0", "3|1"});
  CHECK_THROWS_AS(db.exec("DELETE FROM alert_attempts"), AuditError);
}
