// Bad input end to end: a clear error, the right exit code, nothing lost.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const char* kStack = R"(stack "mini"
param("burn", { type = "integer", default = 0, doc = "extra Lua work per group, for the kill test" })
system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } },
}
system "erp" {
  source = csv { path = "erp.csv" },
  id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } },
}
reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "id", right = "id" },
  rules = {
    exists_in "right",
    amount_equal { field = "amount" },
    rule("picky", function(g)
      for i = 1, params.burn do end
      if g.key == "B" then error("cannot judge " .. g.key) end
      return pass()
    end),
  },
}
)";

void write_mini(const TempDir& dir, const std::string& shop = "id,amount\nA,1.00\nB,2.00\nC,3.00\n",
                const std::string& erp = "id,amount\nA,1.00\nB,2.00\nC,3.50\n") {
  write_file(dir / "mini/stack.lua", kStack);
  write_file(dir / "mini/shop.csv", shop);
  write_file(dir / "mini/erp.csv", erp);
}

}  // namespace

TEST_CASE("e2e bad input: a rule that raises becomes an error verdict and the run goes on") {
  TempDir dir;
  write_mini(dir);
  auto r = run_seam(dir.path(), "run mini");
  CHECK(r.exit == 1);
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position") ==
        std::vector<std::string>{
            "A|exists in right|pass|", "A|amount equal|pass|", "A|picky|pass|", "A|cardinality|pass|",
            "B|exists in right|pass|", "B|amount equal|pass|",
            "B|picky|error|rule raised an error: mini/stack.lua:21: cannot judge B", "B|cardinality|pass|",
            "C|exists in right|pass|",
            "C|amount equal|fail|erp C amount 3.50 USD differs from shop C amount 3.00 USD by 0.50 USD (tolerance 0)",
            "C|picky|pass|", "C|cardinality|pass|"});
  CHECK(r.out.find("2 exceptions (1 fail, 1 error)") != std::string::npos);
}

TEST_CASE("e2e bad input: a broken stack fails check and run with file:line and a hint, nothing is written") {
  TempDir dir;
  write_mini(dir);
  std::string broken = kStack;
  broken.replace(broken.find("id = \"id\",\n  fields"), 10, "id = \"id\"");  // drop the comma on line 5
  write_file(dir / "mini/stack.lua", broken);
  for (const char* cmd : {"check mini", "run mini"}) {
    auto r = run_seam(dir.path(), cmd);
    CHECK(r.exit == 2);
    CHECK(r.out == "");
    CHECK(r.err == "seam: error: mini/stack.lua:6: '}' expected (to close '{' at line 3) near 'fields'\n"
                   "  hint: a missing comma between table entries, or an unclosed { or ( on this line or the one before, "
                   "is the usual cause\n");
  }
  CHECK_FALSE(std::filesystem::exists(dir / "mini/seam.db"));
}

TEST_CASE("e2e bad input: a missing or empty input file is an error, never a silent zero") {
  TempDir dir;
  write_mini(dir);
  std::filesystem::remove(dir / "mini/erp.csv");
  auto missing = run_seam(dir.path(), "run mini");
  CHECK(missing.exit == 2);
  CHECK(missing.err == "seam: error: input file not found: mini/erp.csv (system 'erp', source declared at mini/stack.lua:9)\n");
  write_file(dir / "mini/erp.csv", "");
  auto empty = run_seam(dir.path(), "run mini");
  CHECK(empty.exit == 2);
  CHECK(empty.err.find("seam: error: input file is empty: mini/erp.csv (system 'erp')") == 0);
  write_file(dir / "mini/erp.csv", "id,amount\n");
  auto header_only = run_seam(dir.path(), "run mini");
  CHECK(header_only.exit == 2);
  CHECK(header_only.err.find("input file has a header but no rows: mini/erp.csv") != std::string::npos);
}

TEST_CASE("e2e bad input: broken rows are rejected, counted and kept, the rest is reconciled") {
  TempDir dir;
  write_mini(dir, "id,amount\nA,1.00\nB,two\n,3.00\nC,\"3.00\nD,4.00\n", "id,amount\nA,1.00\nB,2.00\nC,3.00\nD,4.00\n");
  auto r = run_seam(dir.path(), "run mini");
  CHECK(r.exit == 1);
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT rows_read, rows_accepted, rows_rejected FROM run_inputs WHERE system = 'shop'") ==
        std::vector<std::string>{"5|2|3"});
  CHECK(rows(db, "SELECT path, line, reason, raw FROM rejects ORDER BY seq") ==
        std::vector<std::string>{
            "mini/shop.csv|3|cannot read 'two' as an amount: unexpected character 't' (field 'amount', column 'amount')|B,two",
            "mini/shop.csv|4|required field 'id' is empty (column 'id')|,3.00",
            "mini/shop.csv|5|unterminated quoted field (opened on line 5)|C,\"3.00"});
  // D, on the line after the broken quote, was still read and matched
  CHECK(rows(db, "SELECT group_key, outcome FROM verdicts WHERE rule = 'amount equal' ORDER BY group_no") ==
        std::vector<std::string>{"A|pass", "D|pass", "B|skip", "C|skip"});
}

TEST_CASE("e2e bad input: usage errors and missing audit logs exit 2") {
  TempDir dir;
  CHECK(run_seam(dir.path(), "").exit == 2);
  CHECK(run_seam(dir.path(), "run").exit == 2);
  CHECK(run_seam(dir.path(), "run x --format xml").exit == 2);
  auto nostack = run_seam(dir.path(), "run nowhere");
  CHECK(nostack.exit == 2);
  CHECK(nostack.err == "seam: error: no stack folder: nowhere (a stack is a folder holding stack.lua)\n");
  auto nodb = run_seam(dir.path(), "trace R1");
  CHECK(nodb.exit == 2);
  CHECK(nodb.err == "seam: error: no audit log at seam.db (run `seam run STACK_DIR` first, or pass --db FILE / --stack DIR)\n");
  CHECK(run_seam(dir.path(), "audit verify --db nope.db").exit == 2);
}

TEST_CASE("e2e bad input: a killed run leaves a valid log, marked incomplete, and the next run works") {
  TempDir dir;
  std::string shop = "id,amount\n", erp = "id,amount\n";
  for (int i = 0; i < 30000; ++i) {
    shop += "K" + std::to_string(i) + ",1.00\n";
    erp += "K" + std::to_string(i) + ",1.00\n";
  }
  write_mini(dir, shop, erp);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.path().c_str()) != 0) _exit(127);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(SEAM_BINARY, SEAM_BINARY, "run", "mini", "--set", "burn=20000", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the run has started writing, then kill it without warning.
  bool running = false;
  for (int i = 0; i < 400 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    try {
      Db db(dir / "mini/seam.db", false);
      running = rows(db, "SELECT status FROM runs") == std::vector<std::string>{"running"};
    } catch (const std::exception&) {
    }
  }
  REQUIRE(running);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  {
    Db db(dir / "mini/seam.db", false);
    CHECK(rows(db, "PRAGMA integrity_check") == std::vector<std::string>{"ok"});
    CHECK(rows(db, "SELECT status FROM runs") == std::vector<std::string>{"running"});
  }
  auto next = run_seam(dir.path(), "run mini");
  CHECK(next.exit == 0);
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT id, status FROM runs ORDER BY id") == std::vector<std::string>{"1|incomplete", "2|complete"});
  CHECK(rows(db, "SELECT count(*) FROM groups WHERE run_id = 2") == std::vector<std::string>{"30000"});
  auto verify = run_seam(dir.path(), "audit verify --stack mini");
  CHECK(verify.exit == 0);
  CHECK(verify.out.find("run 1: incomplete, ok (what it wrote is sealed)\nrun 2: ok\n") == 0);
}

TEST_CASE("e2e: the text summary stays short, json lists every finding") {
  TempDir dir;
  write_mini(dir, "id,amount\nA,1.00\nB,2.00\nC,3.00\n", "id,amount\nA,1.50\nB,2.00\nC,3.50\n");
  auto r = run_seam(dir.path(), "run mini --limit 1");
  CHECK(r.exit == 1);
  CHECK(r.out.find("  FAIL    A    amount equal  erp A amount 1.50 USD differs") != std::string::npos);
  CHECK(r.out.find("  ... and 2 more (seam trace KEY, the audit log's failures view, or --limit 0 to list all)\n") !=
        std::string::npos);
  auto j = run_seam(dir.path(), "run mini --format json");
  CHECK(j.out.find("\"key\":\"C\",\"rule\":\"amount equal\"") != std::string::npos);
}

TEST_CASE("e2e: Lua mapping functions compute fields, one that raises rejects its row with file:line") {
  TempDir dir;
  write_file(dir / "m/stack.lua", R"(stack "m"
system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = {
    id = function(row) return "S-" .. row["Ref"] end,
    amount = function(row)
      if row["Cents"] == "boom" then error("cents must be digits") end
      return money_of(math.tointeger(tonumber(row["Cents"])), "USD")
    end,
    big = function(row) return tonumber(row["Cents"]) > 1000 end,
  },
}
system "erp" { source = csv { path = "erp.csv" }, id = "id",
               fields = { id = "id", amount = money { column = "amount", currency = "USD" } } }
reconcile "r" {
  left = "shop", right = "erp", match = { left = "id", right = "id" },
  rules = { amount_equal { field = "amount" }, present "left.big" },
}
)");
  write_file(dir / "m/shop.csv", "Ref,Cents\n1,1250\n2,boom\n3,99\n");
  write_file(dir / "m/erp.csv", "id,amount\nS-1,12.50\nS-3,0.99\n");
  auto r = run_seam(dir.path(), "run m");
  CHECK(r.exit == 1);  // the rejected row
  Db db(dir / "m/seam.db", false);
  CHECK(rows(db, "SELECT group_key, rule, outcome FROM verdicts ORDER BY group_no, position") ==
        std::vector<std::string>{"S-1|amount equal|pass", "S-1|present left.big|pass", "S-1|cardinality|pass",
                                 "S-3|amount equal|pass", "S-3|present left.big|pass", "S-3|cardinality|pass"});
  CHECK(rows(db, "SELECT line, reason FROM rejects") ==
        std::vector<std::string>{"3|mapping function for field 'amount' failed: m/stack.lua:8: cents must be digits"});
}

TEST_CASE("e2e seam test: a passing suite, a failing suite with a diff, exit codes") {
  TempDir dir;
  write_mini(dir);
  write_file(dir / "mini/tests/a_test.lua", R"(test "matching amounts pass" {
  records = { shop = { { id = "A", amount = "1.00" } }, erp = { { id = "A", amount = "1.00" } } },
  expect = {},
}
test "a different amount fails" {
  records = { shop = { { id = "A", amount = "1.00" } }, erp = { { id = "A", amount = "1.25" } } },
  expect = { { "A", "amount equal", "fail", delta = "0.25 USD" } },
}
)");
  auto ok = run_seam(dir.path(), "test mini");
  CHECK(ok.exit == 0);
  CHECK(ok.out == "PASS  matching amounts pass  (mini/tests/a_test.lua:1)\n"
                  "PASS  a different amount fails  (mini/tests/a_test.lua:5)\n\n2 passed, 0 failed\n");
  write_file(dir / "mini/tests/b_test.lua", R"(test "wrong expectations are shown as a diff" {
  records = { shop = { { id = "A", amount = "1.00" }, { id = "B", amount = "2.00" } },
              erp = { { id = "A", amount = "1.50" } } },
  expect = { { "A", "amount equal", "fail", delta = "0.25 USD" }, { "Z", "amount equal", "pass" } },
}
)");
  auto bad = run_seam(dir.path(), "test mini");
  CHECK(bad.exit == 1);
  CHECK(bad.out ==
        "PASS  matching amounts pass  (mini/tests/a_test.lua:1)\n"
        "PASS  a different amount fails  (mini/tests/a_test.lua:5)\n"
        "FAIL  wrong expectations are shown as a diff  (mini/tests/b_test.lua:1)\n"
        "      A 'amount equal' differs:\n"
        "        - delta: 0.25 USD\n"
        "        + delta: 0.50 USD\n"
        "          message: erp A amount 1.50 USD differs from shop A amount 1.00 USD by 0.50 USD (tolerance 0)\n"
        "      no verdict for Z 'amount equal' (no group has key Z)\n"
        "      unexpected r B 'exists in right': fail - no erp record with key B for shop B\n"
        "      unexpected r B 'picky': error - rule raised an error: mini/stack.lua:21: cannot judge B\n"
        "\n2 passed, 1 failed\n");
  auto json = run_seam(dir.path(), "test mini --format json");
  CHECK(json.out.find("\"passed\":2,\"failed\":1}") != std::string::npos);
  write_file(dir / "mini/tests/c_test.lua", "test \"typo\" { records = { shopp = {} } }\n");
  auto typo = run_seam(dir.path(), "test mini");
  CHECK(typo.exit == 2);
  CHECK(typo.err == "seam: error: mini/tests/c_test.lua:1: test 'typo': records for system 'shopp', which the stack "
                    "does not declare (did you mean 'shop'?)\n");
}

TEST_CASE("e2e seam rules: the catalog, with the params a Lua rule reads") {
  TempDir dir;
  write_mini(dir);
  auto r = run_seam(dir.path(), "rules mini --format json");
  CHECK(r.exit == 0);
  CHECK(r.out.find("{\"reconcile\":\"r\",\"name\":\"picky\",\"kind\":\"lua\",") != std::string::npos);
  CHECK(r.out.find("\"source\":\"mini/stack.lua:19\",\"severity\":\"medium\",\"params\":[\"burn\"]") !=
        std::string::npos);
}

TEST_CASE("e2e seam check: lint warnings, each at file:line, --data and --strict") {
  TempDir dir;
  write_file(dir / "lint/stack.lua", R"(stack "lint"
param("lag_minutes", { default = 30 })
param("unused", { default = 1 })
system "a" { source = csv { path = "a.csv" }, id = "id", fields = { id = "id", status = "status" } }
system "b" { source = csv { path = "b.csv" }, id = "id", fields = { id = "id", status = "status" } }
system "c" { source = csv { path = "c.csv" }, id = "id", fields = { id = "id" } }
function present(x) return rule("mine", function(g) return pass() end) end
reconcile "r" {
  left = "a", right = "b", match = { left = "id", right = "id" },
  rules = {
    value_map { field = "status", map = { ok = "OK" } },
    rule("reads", function(g) if g.l.stauts == params.lag_minutes then return pass() end return pass() end),
  },
}
)");
  write_file(dir / "lint/a.csv", "id,status\n1,ok\n2,voided\n3,voided\n");
  write_file(dir / "lint/b.csv", "id,status\n1,OK\n");
  write_file(dir / "lint/c.csv", "id\n1\n");
  const std::string warnings =
      "lint/stack.lua:7: warning: 'present' redefines seam's built-in present; the stack's rules get this version instead\n"
      "lint/stack.lua:3: warning: param 'unused' is declared but nothing reads it\n"
      "lint/stack.lua:6: warning: system 'c' is never reconciled (its input is still read and counted)\n"
      "lint/stack.lua:12: warning: rule 'reads' reads g.l.stauts, which system 'a' does not declare (did you mean "
      "'status'?)\n";
  auto plain = run_seam(dir.path(), "check lint");
  CHECK(plain.exit == 0);
  CHECK(plain.out == warnings + "stack lint is valid: 2 params, 3 systems, 1 reconciliation, 3 rules; 4 warnings\n");
  auto data = run_seam(dir.path(), "check lint --data --strict");
  CHECK(data.exit == 1);
  CHECK(data.out == "sample of a: all 3 rows of lint/a.csv (3 accepted, 0 rejected)\n"
                    "  status: 'voided' (2), 'ok' (1)\n"
                    "sample of b: its only row of lint/b.csv (1 accepted, 0 rejected)\n"
                    "  status: 'OK' (1)\n"
                    "sample of c: its only row of lint/c.csv (1 accepted, 0 rejected)\n" +
                        warnings +
                        "lint/stack.lua:11: warning: value_map 'status mapped' does not map 'voided' (a status, seen 2 "
                        "times in the sample)\n"
                        "stack lint is valid: 2 params, 3 systems, 1 reconciliation, 3 rules; 5 warnings\n");
}

TEST_CASE("e2e: a large NDJSON input loses nothing and numbers a reject by its real line") {
  TempDir dir;
  std::string shop = "id,amount\n", erp;
  for (int i = 0; i < 210000; ++i) {
    shop += "K" + std::to_string(i) + ",1.00\n";
    erp += i == 150000 ? "{\"id\": \"K150000\", \"amount\": }\n"
                       : "{\"id\":\"K" + std::to_string(i) + "\",\"amount\":\"1.00\"}\n";
  }
  write_mini(dir, shop, "id,amount\nA,1.00\n");
  std::string stack = read_file(dir / "mini/stack.lua");
  stack.replace(stack.find("source = csv { path = \"erp.csv\" }"), 33, "source = ndjson { path = \"erp.ndjson\" }");
  write_file(dir / "mini/stack.lua", stack);
  write_file(dir / "mini/erp.ndjson", erp);
  auto r = run_seam(dir.path(), "run mini");
  CHECK(r.exit == 1);
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT rows_read, rows_accepted, rows_rejected FROM run_inputs WHERE system = 'erp'") ==
        std::vector<std::string>{"210000|209999|1"});
  CHECK(rows(db, "SELECT line, raw FROM rejects") == std::vector<std::string>{"150001|{\"id\": \"K150000\", \"amount\": }"});
  CHECK(rows(db, "SELECT count(*) FROM groups") == std::vector<std::string>{"210000"});
  CHECK(rows(db, "SELECT group_key FROM failures WHERE rule = 'exists in right'") == std::vector<std::string>{"K150000"});
}
