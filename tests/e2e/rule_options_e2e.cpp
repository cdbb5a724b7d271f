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
