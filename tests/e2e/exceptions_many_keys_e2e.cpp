// The real binary, run three times over 20,000 refunds: the first run opens an exception for
// every amount off and every refund missing from the ERP; in the second, some are fixed.
// Exactly those resolve, in group order and rule order, and every other one stays open with
// what the second run saw; in the third, some of the fixed ones break again and reopen. (The
// tracker asks a filter of the open keys first: with thousands of keys it answers "maybe"
// for some keys that have none, and those must still resolve nothing. Refreshes go many
// rows to an UPDATE.)
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

constexpr int kRefunds = 20'000;

const char* kStack = R"(stack "many-keys"

system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } },
}

system "erp" {
  source = csv { path = "erp.csv" },
  id = "doc",
  fields = { doc = "doc", ref = "ref", amount = money { column = "amount", currency = "USD" } },
}

reconcile "refunds" {
  left = "shop", right = "erp",
  match = { left = "id", right = "ref" },
  rules = { exists_in { "right" }, amount_equal { field = "amount" } },
}
)";

bool amount_off(int i) { return i % 7 == 0 && i % 11 != 0; }
bool missing(int i) { return i % 11 == 0; }
bool fixed_later(int i) { return (amount_off(i) && i % 14 == 0) || i % 22 == 0; }
bool broken_again(int i) { return amount_off(i) && i % 28 == 0; }

// run 1: every amount off by 1.00; run 2: the fixed ones right, the others off by 2.00;
// run 3: as run 2, but the ones broken again off by 3.00.
void write_inputs(const std::string& dir, int run) {
  const bool second = run >= 2;
  std::string shop = "id,amount\n", erp = "doc,ref,amount\n";
  for (int i = 0; i < kRefunds; ++i) {
    const std::string key = "R" + std::to_string(100000 + i), amount = std::to_string(i % 300 + 1) + ".50";
    shop += key + "," + amount + "\n";
    if (missing(i) && !(second && fixed_later(i))) continue;
    const bool off = amount_off(i) && !(second && fixed_later(i)), again = run == 3 && broken_again(i);
    const int by = again ? 3 : off ? (second ? 2 : 1) : 0;
    erp += "D" + std::to_string(i) + "," + key + "," + std::to_string(i % 300 + 1 + by) + ".50\n";
  }
  write_file(dir + "/shop.csv", shop);
  write_file(dir + "/erp.csv", erp);
}

}  // namespace

TEST_CASE("e2e exceptions with many keys: a second run resolves exactly what was fixed, and nothing else") {
  TempDir dir;
  std::filesystem::create_directories(dir / "s");
  write_file(dir / "s/stack.lua", kStack);
  int opened_amount = 0, opened_missing = 0, resolved_amount = 0, resolved_missing = 0;
  for (int i = 0; i < kRefunds; ++i) {
    opened_amount += amount_off(i), opened_missing += missing(i);
    resolved_amount += amount_off(i) && fixed_later(i), resolved_missing += missing(i) && fixed_later(i);
  }
  REQUIRE(resolved_amount > 100);
  REQUIRE(resolved_missing > 100);

  write_inputs(dir / "s", 1);
  auto first = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-01T00:00:00Z");
  CHECK(first.exit == 1);
  write_inputs(dir / "s", 2);
  auto second = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-02T00:00:00Z");
  CHECK(second.exit == 1);
  CHECK(second.out.find("exceptions across runs: 0 opened, 0 reopened, " +
                        std::to_string(opened_amount + opened_missing - resolved_amount - resolved_missing) +
                        " still open, " + std::to_string(resolved_amount + resolved_missing) + " resolved") !=
        std::string::npos);

  Db db(dir / "s/seam.db", false);
  CHECK(rows(db, "SELECT rule, status, count(*) FROM exceptions GROUP BY rule, status ORDER BY rule, status") ==
        std::vector<std::string>{
            "amount equal|open|" + std::to_string(opened_amount - resolved_amount),
            "amount equal|resolved|" + std::to_string(resolved_amount),
            "exists in right|open|" + std::to_string(opened_missing - resolved_missing),
            "exists in right|resolved|" + std::to_string(resolved_missing),
        });
  // Which ones: every resolved key is one that was fixed, and every fixed one resolved.
  std::vector<std::string> resolved_keys = rows(db, "SELECT group_key FROM exceptions WHERE status = 'resolved' ORDER BY id");
  std::vector<std::string> expected;
  for (int i = 0; i < kRefunds; ++i)
    if ((amount_off(i) || missing(i)) && fixed_later(i)) expected.push_back("R" + std::to_string(100000 + i));
  CHECK(resolved_keys == expected);
  // The resolving events come in group order, then rule order: the order the exceptions were opened in.
  std::vector<std::string> events = rows(db, "SELECT exception_id FROM exception_events WHERE event = 'resolved' ORDER BY id");
  std::vector<std::string> ids = rows(db, "SELECT id FROM exceptions WHERE status = 'resolved' ORDER BY id");
  CHECK(events == ids);
  // The ones still open carry what the second run saw: off by 2.00 now, last seen in run 2.
  CHECK(rows(db, "SELECT delta, first_run, last_run, count(*) FROM exceptions WHERE rule = 'amount equal' AND "
                 "status = 'open' GROUP BY 1, 2, 3") ==
        std::vector<std::string>{"2.00 USD|1|2|" + std::to_string(opened_amount - resolved_amount)});
  CHECK(rows(db, "SELECT count(*) FROM exceptions WHERE status = 'open' AND right_amount - left_amount <> 200 AND "
                 "rule = 'amount equal'") == std::vector<std::string>{"0"});

  int reopened = 0;
  for (int i = 0; i < kRefunds; ++i) reopened += broken_again(i);
  REQUIRE(reopened > 50);
  write_inputs(dir / "s", 3);
  auto third = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-03T00:00:00Z");
  CHECK(third.exit == 1);
  CHECK(third.out.find("exceptions across runs: 0 opened, " + std::to_string(reopened) + " reopened, " +
                       std::to_string(opened_amount + opened_missing - resolved_amount - resolved_missing) +
                       " still open, 0 resolved") != std::string::npos);
  Db after(dir / "s/seam.db", false);
  CHECK(rows(after, "SELECT status, delta, last_run, resolved_run IS NULL, count(*) FROM exceptions WHERE "
                    "rule = 'amount equal' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2") ==
        std::vector<std::string>{
            "open|2.00 USD|3|1|" + std::to_string(opened_amount - resolved_amount),
            "open|3.00 USD|3|1|" + std::to_string(reopened),
            "resolved|1.00 USD|1|0|" + std::to_string(resolved_amount - reopened),
        });
  CHECK(rows(after, "SELECT count(*) FROM exception_events WHERE event = 'reopened' AND run_id = 3") ==
        std::vector<std::string>{std::to_string(reopened)});
}
