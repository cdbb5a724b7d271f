// Connectors never lose a row silently, end to end: the real binary, its exit code, the
// counts and rejects it writes to the audit log. Each run is under `timeout`, so a
// regression to blocking on a FIFO or looping on a stray brace fails instead of hanging.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

std::string stack(const std::string& shop_source) {
  return R"(stack "mini"
system "shop" {
  source = )" + shop_source + R"(,
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
  rules = { exists_in "right", amount_equal { field = "amount" } },
}
)";
}

}  // namespace

TEST_CASE("e2e connectors robustness: a FIFO as input is refused at once with exit 2, never waited on") {
  TempDir dir;
  write_file(dir / "mini/stack.lua", stack("csv { path = \"shop.csv\" }"));
  write_file(dir / "mini/erp.csv", "id,amount\nA,1.00\n");
  REQUIRE(::mkfifo((dir / "mini/shop.csv").c_str(), 0600) == 0);
  auto r = run_seam(dir.path(), "run mini", "timeout 60");
  CHECK(r.exit == 2);
  CHECK(r.err ==
        "seam: error: input of system 'shop' mini/shop.csv is a FIFO (a named pipe), not a regular file (source "
        "declared at mini/stack.lua:3); seam reads only regular files: export the data to a file and declare that "
        "file\n");
}

TEST_CASE("e2e connectors robustness: a stray brace in JSON is one reject, the records around it and their digits are kept") {
  TempDir dir;
  write_file(dir / "mini/stack.lua", stack("json { path = \"shop.json\" }"));
  write_file(dir / "mini/shop.json",
             "[\n{\"id\": \"A\", \"amount\": 1234567890123456.78},\n}\n{\"id\": \"B\", \"amount\": 2.50}\n]\n");
  write_file(dir / "mini/erp.csv", "id,amount\nA,1234567890123456.78\nB,2.50\n");
  auto r = run_seam(dir.path(), "run mini", "timeout 60");
  CHECK(r.exit == 1);  // a rejected row makes the run need attention
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT rows_read, rows_accepted, rows_rejected FROM run_inputs WHERE system = 'shop'") ==
        std::vector<std::string>{"3|2|1"});
  CHECK(rows(db, "SELECT path, line, reason, raw FROM rejects ORDER BY seq") ==
        std::vector<std::string>{"mini/shop.json|3|stray '}' in the records array opened on line 1 (expected a record, "
                                 "',' between records or the ']' that closes the array)|}"});
  CHECK(rows(db, "SELECT group_key, outcome FROM verdicts WHERE rule = 'amount equal' ORDER BY group_no") ==
        std::vector<std::string>{"A|pass", "B|pass"});
}

TEST_CASE("e2e connectors robustness: a CSV with CR line ends keeps every row and its physical line") {
  TempDir dir;
  write_file(dir / "mini/stack.lua", stack("csv { path = \"shop.csv\" }"));
  write_file(dir / "mini/shop.csv", "id,amount\rA,1.00\rB,two\rC,3.00\r");
  write_file(dir / "mini/erp.csv", "id,amount\nA,1.00\nB,2.00\nC,3.00\n");
  auto r = run_seam(dir.path(), "run mini", "timeout 60");
  CHECK(r.exit == 1);
  Db db(dir / "mini/seam.db", false);
  CHECK(rows(db, "SELECT rows_read, rows_accepted, rows_rejected FROM run_inputs WHERE system = 'shop'") ==
        std::vector<std::string>{"3|2|1"});
  CHECK(rows(db, "SELECT line, raw FROM rejects ORDER BY seq") == std::vector<std::string>{"3|B,two"});
}
