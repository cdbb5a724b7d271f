// The real binary with Lua rules on several threads: SEAM_THREADS=1 and SEAM_THREADS=3
// write the same audit log, verdict for verdict, and the same seal; a
// SEAM_THREADS that is not a count stops the run with a clear error and writes nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// Line 22 raises for every 500th key, line 23 runs away on key K1234.
const char* kStack = R"(stack "cores"

system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = { id = "id", key = function(row) return "K" .. row["n"] end, amount = money { column = "amount", currency = "USD" } },
}

system "erp" {
  source = csv { path = "erp.csv" },
  id = "id",
  fields = { id = "id", key = "key", amount = money { column = "amount", currency = "USD" } },
}

reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "key", right = "key" },
  rules = {
    amount_equal { field = "amount" },
    rule("not sevens", function(g)
      if not g.l or not g.r then return skip("one side only") end
      if g.l.amount.minor % 50000 == 0 then error("cannot judge " .. g.key) end
      if g.key == "K1234" then while true do end end
      if g.l.amount.minor % 700 == 0 then return fail("a multiple of 7.00: " .. g.key) end
      return pass()
    end),
  },
}
)";

void write_stack(const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_file(dir + "/stack.lua", kStack);
  std::string shop = "id,n,amount\n", erp = "id,key,amount\n";
  for (int n = 1; n <= 3000; ++n) {
    shop += "S" + std::to_string(n) + "," + std::to_string(n) + "," + std::to_string(n) + ".00\n";
    if (n % 29 != 0) erp += "E" + std::to_string(n) + ",K" + std::to_string(n) + "," + std::to_string(n) + ".00\n";
  }
  write_file(dir + "/shop.csv", shop);
  write_file(dir + "/erp.csv", erp);
}

}  // namespace

TEST_CASE("e2e lua cores: three threads write the verdicts and the seal of one") {
  TempDir dir;
  write_stack(dir / "s");
  const std::string now = "SEAM_NOW=2026-03-01T00:00:00Z";
  auto one = run_seam(dir.path(), "run s --db one.db", now + " SEAM_THREADS=1");
  auto three = run_seam(dir.path(), "run s --db three.db", now + " SEAM_THREADS=3");
  CHECK(one.exit == 1);
  CHECK(three.exit == 1);
  std::string out3 = three.out;
  for (size_t at; (at = out3.find("three.db")) != std::string::npos;) out3.replace(at, 8, "one.db");
  CHECK(out3 == one.out);
  const std::string verdicts =
      "SELECT group_no, group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position";
  Db db1(dir / "one.db", false), db3(dir / "three.db", false);
  std::vector<std::string> v1 = rows(db1, verdicts);
  CHECK(v1.size() == 3000 * 3);  // amount equal, not sevens, cardinality
  CHECK(std::find(v1.begin(), v1.end(), "6|K7|not sevens|fail|a multiple of 7.00: K7") != v1.end());
  CHECK(std::find(v1.begin(), v1.end(), "499|K500|not sevens|error|rule raised an error: s/stack.lua:22: cannot "
                                        "judge K500") != v1.end());
  CHECK(std::find(v1.begin(), v1.end(), "1233|K1234|not sevens|error|rule raised an error: s/stack.lua:23: rule "
                                        "stopped: instruction budget of 20000000 exceeded (endless loop?)") != v1.end());
  CHECK(rows(db3, verdicts) == v1);
  CHECK(rows(db3, "SELECT seal FROM runs") == rows(db1, "SELECT seal FROM runs"));
  // The chain seals the same state, but for the runs table, which holds each process's pid.
  const std::string chain = "SELECT seq, at, event, json_remove(tables, '$.runs') FROM chain ORDER BY seq";
  CHECK(rows(db1, chain).size() == 2);
  CHECK(rows(db3, chain) == rows(db1, chain));
  CHECK(rows(db3, "SELECT pid != 0 FROM runs") == std::vector<std::string>{"1"});
}

TEST_CASE("e2e lua cores: a SEAM_THREADS that is not a count is refused before anything is written") {
  TempDir dir;
  write_stack(dir / "s");
  auto r = run_seam(dir.path(), "run s", "SEAM_THREADS=many");
  CHECK(r.exit == 2);
  CHECK(r.err.find("SEAM_THREADS is 'many': expected a whole number of threads, 1 or more (unset it to use every "
                   "core)") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "s/seam.db"));
}
