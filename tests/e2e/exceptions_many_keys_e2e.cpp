// The real binary, run three times over 20,000 refunds: the first run opens an exception for
// every amount off, every refund missing from the ERP and every ERP row without its note
// (the refunds whose amount is off, so those keys have two open exceptions); in the second,
// some amounts and missing refunds are fixed. Exactly those resolve, in group order and rule
// order, and every other one stays open with what the second run saw, row by row; in the
// third, some of the fixed ones break again and reopen. (The tracker asks a filter of the
// open keys first: with thousands of keys it answers "maybe" for some keys that have none,
// and those must still resolve nothing. Refreshes go many rows to an UPDATE.)
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
  fields = { doc = "doc", ref = "ref", note = "note", amount = money { column = "amount", currency = "USD" } },
}

reconcile "refunds" {
  left = "shop", right = "erp",
  match = { left = "id", right = "ref" },
  rules = { exists_in { "right" }, amount_equal { field = "amount" }, present { "right.note", name = "note kept" } },
}
)";

bool amount_off(int i) { return i % 7 == 0 && i % 11 != 0; }  // and its note missing, in every run
bool missing(int i) { return i % 11 == 0; }
bool fixed_later(int i) { return (amount_off(i) && i % 14 == 0) || i % 22 == 0; }
bool broken_again(int i) { return amount_off(i) && i % 28 == 0; }
std::string key_of(int i) { return "R" + std::to_string(100000 + i); }
int cents(int i) { return (i % 300 + 1) * 100 + 50; }

// How far off the ERP's amount is, in whole units: run 1 by 1; run 2 the fixed ones right,
// the others by 2, 3 or 4 (each row its own, so a value bound to the wrong row shows);
// run 3 as run 2, but the ones broken again by 5.
int off_by(int i, int run) {
  if (run == 3 && broken_again(i)) return 5;
  if (!amount_off(i) || (run >= 2 && fixed_later(i))) return 0;
  return run == 1 ? 1 : 2 + i % 3;
}

std::string money_text(int c) { return std::to_string(c / 100) + "." + std::to_string(c % 100 / 10) + std::to_string(c % 10); }

void write_inputs(const std::string& dir, int run) {
  std::string shop = "id,amount\n", erp = "doc,ref,note,amount\n";
  for (int i = 0; i < kRefunds; ++i) {
    shop += key_of(i) + "," + money_text(cents(i)) + "\n";
    if (missing(i) && !(run >= 2 && fixed_later(i))) continue;
    erp += "D" + std::to_string(i) + "," + key_of(i) + "," + (amount_off(i) ? "" : "ok") + "," +
           money_text(cents(i) + 100 * off_by(i, run)) + "\n";
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
  const int opened_note = opened_amount;
  const int still_open = opened_amount + opened_missing + opened_note - resolved_amount - resolved_missing;
  REQUIRE(resolved_amount > 100);
  REQUIRE(resolved_missing > 100);

  write_inputs(dir / "s", 1);
  auto first = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-01T00:00:00Z");
  CHECK(first.exit == 1);
  write_inputs(dir / "s", 2);
  auto second = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-02T00:00:00Z");
  CHECK(second.exit == 1);
  CHECK(second.out.find("exceptions across runs: 0 opened, 0 reopened, " + std::to_string(still_open) +
                        " still open, " + std::to_string(resolved_amount + resolved_missing) + " resolved") !=
        std::string::npos);

  Db db(dir / "s/seam.db", false);
  CHECK(rows(db, "SELECT rule, status, count(*) FROM exceptions GROUP BY rule, status ORDER BY rule, status") ==
        std::vector<std::string>{
            "amount equal|open|" + std::to_string(opened_amount - resolved_amount),
            "amount equal|resolved|" + std::to_string(resolved_amount),
            "exists in right|open|" + std::to_string(opened_missing - resolved_missing),
            "exists in right|resolved|" + std::to_string(resolved_missing),
            "note kept|open|" + std::to_string(opened_note),
        });
  // Which ones: every resolved key is one that was fixed, and every fixed one resolved.
  std::vector<std::string> resolved_keys =
      rows(db, "SELECT group_key, rule FROM exceptions WHERE status = 'resolved' ORDER BY id");
  std::vector<std::string> expected;
  for (int i = 0; i < kRefunds; ++i)
    if ((amount_off(i) || missing(i)) && fixed_later(i))
      expected.push_back(key_of(i) + (missing(i) ? "|exists in right" : "|amount equal"));
  CHECK(resolved_keys == expected);
  // The resolving events come in group order, then rule order: the order the exceptions were opened in.
  std::vector<std::string> events = rows(db, "SELECT exception_id FROM exception_events WHERE event = 'resolved' ORDER BY id");
  std::vector<std::string> ids = rows(db, "SELECT id FROM exceptions WHERE status = 'resolved' ORDER BY id");
  CHECK(events == ids);
  // The ones still open carry what the second run saw, each its own: amounts, delta, ids, last run.
  std::vector<std::string> refreshed;
  for (int i = 0; i < kRefunds; ++i)
    if (amount_off(i) && !fixed_later(i))
      refreshed.push_back(key_of(i) + "|[\"" + key_of(i) + "\"]|[\"D" + std::to_string(i) + "\"]|" +
                          std::to_string(cents(i)) + "|" + std::to_string(cents(i) + 100 * off_by(i, 2)) + "|" +
                          money_text(100 * off_by(i, 2)) + " USD|1|2");
  CHECK(rows(db, "SELECT group_key, left_ids, right_ids, left_amount, right_amount, delta, first_run, last_run FROM "
                 "exceptions WHERE rule = 'amount equal' AND status = 'open' ORDER BY id") == refreshed);

  int reopened = 0;
  for (int i = 0; i < kRefunds; ++i) reopened += broken_again(i);
  REQUIRE(reopened > 50);
  write_inputs(dir / "s", 3);
  auto third = run_seam(dir.path(), "run s", "SEAM_NOW=2026-04-03T00:00:00Z");
  CHECK(third.exit == 1);
  CHECK(third.out.find("exceptions across runs: 0 opened, " + std::to_string(reopened) + " reopened, " +
                       std::to_string(still_open) + " still open, 0 resolved") != std::string::npos);
  Db after(dir / "s/seam.db", false);
  int by[5] = {};  // still-open amounts by how far off they are: 2, 3 or 4
  for (int i = 0; i < kRefunds; ++i)
    if (amount_off(i) && !fixed_later(i)) ++by[off_by(i, 3)];
  CHECK(by[2] + by[3] + by[4] == opened_amount - resolved_amount);
  CHECK(rows(after, "SELECT status, delta, last_run, resolved_run IS NULL, count(*) FROM exceptions WHERE "
                    "rule = 'amount equal' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2") ==
        std::vector<std::string>{
            "open|2.00 USD|3|1|" + std::to_string(by[2]),
            "open|3.00 USD|3|1|" + std::to_string(by[3]),
            "open|4.00 USD|3|1|" + std::to_string(by[4]),
            "open|5.00 USD|3|1|" + std::to_string(reopened),
            "resolved|1.00 USD|1|0|" + std::to_string(resolved_amount - reopened),
        });
  CHECK(rows(after, "SELECT count(*) FROM exception_events WHERE event = 'reopened' AND run_id = 3") ==
        std::vector<std::string>{std::to_string(reopened)});
}
