// The new rule options through the stack language and the real binary: declared, checked
// at file:line, and evaluated.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

TEST_CASE("e2e rule options: within with a direction and days, value_not_in, amount_equal base, equal ignore_case") {
  TempDir dir;
  std::string stack = dir / "refunds";
  copy_example("refunds", stack);
  std::string extra = R"LUA(
reconcile "options" {
  left = "storefront", right = "erp",
  match = { left = "refund_id", right = "external_ref" },
  rules = {
    within { left = "at", right = "posted_at", days = 0, zone = "America/New_York", direction = "after",
             name = "booked the same day" },
    value_not_in { "right.status", values = { "pending approval" }, ignore_case = true, name = "not left pending" },
    amount_equal { field = "amount", tolerance_pct = "10", base = "larger", name = "within 10 percent" },
    equal { left = "reason", right = "reason_code", ignore_case = true, trim = true, name = "same reason" },
    unique { "right", fields = { "external_ref", "amount" }, scope = "system", name = "one posting per amount" },
  },
}
)LUA";
  write_file(stack + "/stack.lua", read_file(stack + "/stack.lua") + extra);
  auto check = run_seam(dir.path(), "check refunds");
  CHECK(check.err == "");
  CHECK(check.exit == 0);
  auto run = run_seam(dir.path(), "run refunds --format json");
  CHECK(run.exit == 1);
  Db db(stack + "/seam.db", false);
  // R1004 was booked 135 minutes later, the same day in New York: within 0 calendar days.
  CHECK(rows(db, "SELECT group_key, rule, message FROM failures WHERE reconcile = 'options' AND rule IN "
                 "('booked the same day', 'not left pending') ORDER BY group_key, rule") ==
        std::vector<std::string>{
            "R1007|not left pending|erp CR-9008 status is 'Pending Approval', one of 'pending approval'",
            "R1015|booked the same day|erp CR-9015 posted_at 2026-03-01T05:10:00Z is 1 day after storefront at "
            "2026-03-01T04:50:00Z (limit 0 days) (calendar days in America/New_York)",
            "R1017|not left pending|erp CR-9017 status is 'Pending Approval', one of 'pending approval'",
        });

  CHECK(rows(db, "SELECT group_key, message FROM failures WHERE reconcile = 'options' AND rule = 'one posting per amount'") ==
        std::vector<std::string>{"R1005|external_ref+amount 'R1005 | 80.00' appears 2 times in erp: CR-9005, CR-9006; "
                                 "CR-9006 (erp_customer_refunds.csv:10) repeats CR-9005 (erp_customer_refunds.csv:9)"});
  CHECK(rows(db, "SELECT group_key, delta FROM failures WHERE reconcile = 'options' AND rule = 'within 10 percent'") ==
        std::vector<std::string>{"R1012|-36.00 USD"});

  auto bad = [&](const std::string& rule) {
    std::string s = read_file(stack + "/stack.lua");
    s.replace(s.find("    within { left = \"at\""), 0, "    " + rule + ",\n");
    write_file(dir / "bad/stack.lua", s);
    std::filesystem::copy(stack + "/data", dir / "bad/data", std::filesystem::copy_options::recursive |
                                                                  std::filesystem::copy_options::skip_existing);
    return run_seam(dir.path(), "check bad");
  };
  CHECK(bad("within { left = \"at\", right = \"posted_at\", minutes = 5, days = 1 }").err.find(
            "within needs one of minutes = N or days = N (calendar days)") != std::string::npos);
  CHECK(bad("within { left = \"at\", right = \"posted_at\", minutes = 5, direction = \"later\" }").err.find(
            "within direction must be either, after (right after left) or before, found 'later'") != std::string::npos);
  CHECK(bad("amount_equal { field = \"amount\", base = \"larger\" }").err.find(
            "amount_equal base applies to tolerance_pct") != std::string::npos);
  CHECK(bad("value_in { \"right.status\", values = {} }").err.find("value_in { values = ... } needs at least one value") !=
        std::string::npos);
  CHECK(bad("unique { \"right.status\", fields = { \"amount\" } }").err.find(
            "unique names \"right.status\" and fields = { ... }: use one") != std::string::npos);
}

TEST_CASE("e2e rule options: same_period by day, month, quarter and year in the books' zone") {
  TempDir dir;
  write_file(dir / "p/stack.lua", R"LUA(stack "periods"
system "shop" { source = csv { path = "shop.csv" }, id = "id",
  fields = { id = "id", at = time { column = "at", format = "iso8601" } } }
system "erp" { source = csv { path = "erp.csv" }, id = "id",
  fields = { id = "id", ref = "ref", at = time { column = "at", format = "iso8601" } } }
reconcile "r" {
  left = "shop", right = "erp", match = { left = "id", right = "ref" },
  rules = {
    same_month { left = "at", right = "at", zone = "America/New_York" },
    same_period { field = "at", period = "day", zone = "America/New_York" },
    same_period { field = "at", period = "quarter", name = "same quarter (UTC)" },
    same_period { field = "at", period = "year", zone = "America/New_York" },
  },
}
)LUA");
  // A: 23:50 on 31 March in New York (04:50 UTC on 1 April), booked 00:10 local on 1 April.
  // B: booked the same New York day. C: no time on the ERP side.
  write_file(dir / "p/shop.csv", "id,at\nA,2026-03-31T23:50:00-04:00\nB,2026-12-31T10:00:00-05:00\nC,2026-05-01T10:00:00Z\n");
  write_file(dir / "p/erp.csv", "id,ref,at\nE1,A,2026-04-01T00:10:00-04:00\nE2,B,2026-12-31T22:00:00-05:00\nE3,C,\n");
  auto r = run_seam(dir.path(), "run p");
  CHECK(r.exit == 1);
  Db db(dir / "p/seam.db", false);
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(message, ''), coalesce(expected, ''), coalesce(actual, '') "
                 "FROM verdicts ORDER BY group_key, position") ==
        std::vector<std::string>{
            "A|same accounting month|fail|erp E1 is booked in 2026-04 but shop A happened in 2026-03 (America/New_York)|"
            "2026-03|2026-04",
            "A|same accounting day|fail|erp E1 is booked in 2026-04-01 but shop A happened in 2026-03-31 "
            "(America/New_York)|2026-03-31|2026-04-01",
            "A|same quarter (UTC)|pass|||",  // both on 1 April in UTC
            "A|same accounting year|pass|||",
            "A|cardinality|pass|||",
            "B|same accounting month|pass|||", "B|same accounting day|pass|||",
            "B|same quarter (UTC)|fail|erp E2 is booked in 2027-Q1 but shop B happened in 2026-Q4 (UTC)|2026-Q4|2027-Q1",
            "B|same accounting year|pass|||", "B|cardinality|pass|||",
            "C|same accounting month|skip|no time to compare||", "C|same accounting day|skip|no time to compare||",
            "C|same quarter (UTC)|skip|no time to compare||", "C|same accounting year|skip|no time to compare||",
            "C|cardinality|pass|||"});
  CHECK(rows(db, "SELECT doc FROM rules WHERE name = 'same accounting month'") ==
        std::vector<std::string>{"left and right fall in the same calendar month (America/New_York)"});
  // A period that is not one is refused at its line.
  write_file(dir / "p/stack.lua", read_file(dir / "p/stack.lua").replace(
      read_file(dir / "p/stack.lua").find("period = \"year\""), 15, "period = \"week\""));
  auto c = run_seam(dir.path(), "check p");
  CHECK(c.exit == 2);
  CHECK(c.err == "seam: error: p/stack.lua:12: same_period period must be day, month, quarter or year, found 'week'\n");
}
