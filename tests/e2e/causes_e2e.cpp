// Root causes across keys, end to end: a card's balance gap names the missing loads (keyed
// by load id) its records hold, only when they can explain it, with the part of the gap
// they explain; fixing one load leaves the rest, measured again.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const char* kStack = R"(stack "cards"
local usd = function(column) return money { column = column, currency = "USD" } end
local function activity(only)
  return { source = csv { path = "activity.csv" }, id = "id", amount = "amount", only = only,
           fields = { id = "id", card = "card", type = "type", amount = usd("amount") } }
end
system "activity" (activity(nil))
system "activity_loads" (activity({ field = "type", values = { "load" } }))
local function ledger(only)
  return { source = csv { path = "ledger.csv" }, id = "doc", amount = "amount", only = only,
           fields = { doc = "doc", card = "card", type = "type", load_id = "load_id", amount = usd("amount") } }
end
system "ledger" (ledger(nil))
system "ledger_loads" (ledger({ field = "type", values = { "load" } }))

reconcile "loads" {
  left = "activity_loads", right = "ledger_loads", system_of_record = "ledger_loads",
  match = { left = "id", right = "load_id" },
  rules = { exists_in { "right", name = "load in the ledger" } },
}
local missing_load = { reconcile = "loads", rule = "load in the ledger", via = "left.id" }
reconcile "cards" {
  left = "activity", right = "ledger", system_of_record = "ledger",
  match = { left = "card", right = "card", cardinality = "many_to_many" },
  rules = {
    amount_equal { field = "amount", name = "balance", caused_by = missing_load },
    amount_equal { field = "amount", name = "balance, any cause",
                   caused_by = { reconcile = "loads", rule = "load in the ledger", via = "left.id", explains = "any" } },
  },
}
)";

// C1: loads L1 and L2 never reached the ledger (-50.00) and the ledger holds a redemption
// the platform does not (-30.00): 80.00 too low. C2: load L4 is missing (-30.00) but the
// ledger holds an extra 100.00, so the balance is 70.00 too high, which L4 cannot explain.
const char* kActivity =
    "id,card,type,amount\n"
    "L1,C1,load,30.00\n"
    "L2,C1,load,20.00\n"
    "L3,C1,load,100.00\n"
    "R1,C1,redemption,-10.00\n"
    "L4,C2,load,30.00\n"
    "L5,C2,load,40.00\n"
    "L6,C3,load,25.00\n";
const char* kLedger =
    "doc,card,type,load_id,amount\n"
    "J1,C1,load,L3,100.00\n"
    "J2,C1,redemption,,-10.00\n"
    "J3,C1,redemption,,-30.00\n"
    "J4,C2,load,L5,40.00\n"
    "J5,C2,adjustment,,100.00\n"
    "J6,C3,load,L6,25.00\n";

std::string exceptions_part(const std::string& trace) { return trace.substr(0, trace.find("\nrun ")); }

}  // namespace

TEST_CASE("e2e causes: a card's balance names the missing loads that explain it, with how much they explain") {
  TempDir dir;
  write_file(dir / "cards/stack.lua", kStack);
  write_file(dir / "cards/activity.csv", kActivity);
  write_file(dir / "cards/ledger.csv", kLedger);
  auto r = run_seam(dir.path(), "run cards");
  CHECK(r.exit == 1);
  Db db(dir / "cards/seam.db", false);
  // The missing loads carry the money their system declares (amount = "amount") as their
  // delta, -30.00 and -20.00: their stake.
  CHECK(rows(db, "SELECT id, reconcile, group_key, rule, coalesce(delta, ''), left_amount, right_amount, "
                 "coalesce(caused_by, '') FROM exceptions ORDER BY id") ==
        std::vector<std::string>{"1|loads|L1|load in the ledger|-30.00 USD|3000|0|",
                                 "2|loads|L2|load in the ledger|-20.00 USD|2000|0|",
                                 "3|loads|L4|load in the ledger|-30.00 USD|3000|0|",
                                 "4|cards|C1|balance|-80.00 USD|14000|6000|1",
                                 "5|cards|C1|balance, any cause|-80.00 USD|14000|6000|1",
                                 "6|cards|C2|balance|70.00 USD|7000|14000|",
                                 "7|cards|C2|balance, any cause|70.00 USD|7000|14000|3"});
  // Both loads explain part of C1's gap (30.00 + 20.00 of 80.00); L4 cannot explain C2's
  // surplus, except where the rule declares it asks for no amount check.
  CHECK(rows(db, "SELECT effect_id, cause_id, coalesce(explains, ''), coalesce(currency, '') FROM exception_causes "
                 "ORDER BY effect_id, cause_id") ==
        std::vector<std::string>{"4|1|3000|USD", "4|2|2000|USD", "5|1||", "5|2||", "7|3||"});

  auto c1 = run_seam(dir.path(), "trace C1 --stack cards");
  CHECK(c1.exit == 0);
  CHECK(exceptions_part(c1.out) ==
        "exceptions about C1\n"
        "  #4 open  cards / balance\n"
        "      caused by #1 loads / load in the ledger on L1 (open), explains 30.00 of 80.00 USD\n"
        "      caused by #2 loads / load in the ledger on L2 (open), explains 20.00 of 80.00 USD\n"
        "      explained 50.00 of 80.00 USD; 30.00 unexplained\n"
        "  #5 open  cards / balance, any cause\n"
        "      caused by #1 loads / load in the ledger on L1 (open)\n"
        "      caused by #2 loads / load in the ledger on L2 (open)\n");
  auto c2 = run_seam(dir.path(), "trace C2 --stack cards");
  CHECK(exceptions_part(c2.out) ==
        "exceptions about C2\n"
        "  #6 open  cards / balance\n"
        "  #7 open  cards / balance, any cause\n"
        "      caused by #3 loads / load in the ledger on L4 (open)\n");
  auto l1 = run_seam(dir.path(), "trace L1 --stack cards");
  CHECK(exceptions_part(l1.out) ==
        "exceptions about L1\n"
        "  #1 open  loads / load in the ledger\n"
        "      root cause of 2:\n"
        "        #4 cards / balance on C1 (open), explains 30.00 of 80.00 USD\n"
        "        #5 cards / balance, any cause on C1 (open)\n");
  auto l1_json = run_seam(dir.path(), "trace L1 --stack cards --format json");
  CHECK(l1_json.out.rfind(
            "{\"key\":\"L1\",\"exceptions\":[{\"id\":1,\"reconcile\":\"loads\",\"rule\":\"load in the ledger\","
            "\"status\":\"open\",\"caused_by\":null,\"causes\":[],\"at_stake\":null,\"explained\":null,"
            "\"unexplained\":null,\"consequences\":[\"#4 cards / balance on C1 (open)\",\"#5 cards / balance, any cause "
            "on C1 (open)\"],\"consequence_links\":[{\"id\":4,\"exception\":\"#4 cards / balance on C1 (open)\","
            "\"explains\":\"30.00 USD\",\"of\":\"80.00 USD\"},{\"id\":5,\"exception\":\"#5 cards / balance, any cause "
            "on C1 (open)\",\"explains\":null,\"of\":null}]}],",
            0) == 0);
  auto json = run_seam(dir.path(), "trace C1 --stack cards --format json");
  CHECK(json.out.rfind(
            "{\"key\":\"C1\",\"exceptions\":[{\"id\":4,\"reconcile\":\"cards\",\"rule\":\"balance\",\"status\":\"open\","
            "\"caused_by\":\"#1 loads / load in the ledger on L1 (open)\",\"causes\":["
            "{\"id\":1,\"exception\":\"#1 loads / load in the ledger on L1 (open)\",\"explains\":\"30.00 USD\"},"
            "{\"id\":2,\"exception\":\"#2 loads / load in the ledger on L2 (open)\",\"explains\":\"20.00 USD\"}],"
            "\"at_stake\":\"80.00 USD\",\"explained\":\"50.00 USD\",\"unexplained\":\"30.00 USD\",\"consequences\":[],"
            "\"consequence_links\":[]},"
            "{\"id\":5,\"reconcile\":\"cards\",\"rule\":\"balance, any cause\",\"status\":\"open\","
            "\"caused_by\":\"#1 loads / load in the ledger on L1 (open)\",\"causes\":["
            "{\"id\":1,\"exception\":\"#1 loads / load in the ledger on L1 (open)\",\"explains\":null},"
            "{\"id\":2,\"exception\":\"#2 loads / load in the ledger on L2 (open)\",\"explains\":null}],"
            "\"at_stake\":null,\"explained\":null,\"unexplained\":null,\"consequences\":[],\"consequence_links\":[]}],",
            0) == 0);

  // The ledger posts L1: its exception resolves, C1's gap is 50.00 and L2 explains 20.00 of it.
  write_file(dir / "cards/ledger.csv", std::string(kLedger) + "J7,C1,load,L1,30.00\n");
  auto again = run_seam(dir.path(), "run cards");
  CHECK(again.exit == 1);
  CHECK(rows(db, "SELECT id, status, coalesce(delta, ''), coalesce(caused_by, '') FROM exceptions WHERE id IN (1, 4) "
                 "ORDER BY id") ==
        std::vector<std::string>{"1|resolved|-30.00 USD|", "4|open|-50.00 USD|2"});
  CHECK(rows(db, "SELECT effect_id, cause_id, coalesce(explains, '') FROM exception_causes ORDER BY effect_id, cause_id") ==
        std::vector<std::string>{"4|2|2000", "5|2|", "7|3|"});
  auto after = run_seam(dir.path(), "trace C1 --stack cards");
  CHECK(exceptions_part(after.out).rfind("exceptions about C1\n"
                                         "  #4 open  cards / balance\n"
                                         "      caused by #2 loads / load in the ledger on L2 (open), explains 20.00 "
                                         "of 50.00 USD\n"
                                         "      explained 20.00 of 50.00 USD; 30.00 unexplained\n",
                                         0) == 0);
  // A rule that stops declaring its cause loses its links at its next failure.
  std::string stack = kStack;
  std::string any = "                   caused_by = { reconcile = \"loads\", rule = \"load in the ledger\", via = "
                    "\"left.id\", explains = \"any\" } },";
  REQUIRE(stack.find(any) != std::string::npos);
  stack.replace(stack.find(any), any.size(), "                   severity = \"high\" },");
  write_file(dir / "cards/stack.lua", stack);
  REQUIRE(run_seam(dir.path(), "run cards").exit == 1);
  CHECK(rows(db, "SELECT effect_id, cause_id FROM exception_causes ORDER BY effect_id, cause_id") ==
        std::vector<std::string>{"4|2"});
  CHECK(rows(db, "SELECT id, coalesce(caused_by, '') FROM exceptions WHERE id IN (4, 5, 7) ORDER BY id") ==
        std::vector<std::string>{"4|2", "5|", "7|"});
  // The log still verifies with its links sealed.
  CHECK(run_seam(dir.path(), "audit verify --stack cards").exit == 0);

  // A log linked before schema v6 has only exceptions.caused_by: trace shows that cause,
  // both ways, without amounts.
  db.exec("DELETE FROM exception_causes");
  CHECK(exceptions_part(run_seam(dir.path(), "trace C1 --stack cards").out).rfind(
            "exceptions about C1\n"
            "  #4 open  cards / balance\n"
            "      caused by #2 loads / load in the ledger on L2 (open)\n"
            "  #5 open  cards / balance, any cause\n",
            0) == 0);
  CHECK(exceptions_part(run_seam(dir.path(), "trace L2 --stack cards").out) ==
        "exceptions about L2\n"
        "  #2 open  loads / load in the ledger\n"
        "      root cause of 1:\n"
        "        #4 cards / balance on C1 (open)\n");
}
