// The real binary on a CSV large enough to be read in parts: the refunds example with its
// ERP export (a report-style CSV: title rows, totals, quoted names and memos holding
// newlines and quotes, some broken rows) grown past two parts' worth of bytes.
// SEAM_THREADS=1 and SEAM_THREADS=2 write the same audit log, the same rejects with
// file:line, and the same seal.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

constexpr int kRefunds = 3000;

// Returns the line refund 397's row starts on, counted as the rows are written.
uint64_t write_inputs(const std::string& dir) {
  copy_example("refunds", dir);
  std::string erp =
      "Acme Retail Inc.\nCustomer Refunds - Shopify (saved search)\n\"Date: Mar 1, 2026 - Mar 31, 2026\"\n\n"
      "Internal ID,Document Number,Date,Name,Created From,Memo,Status,Reason Code,Currency,Amount\r\n";
  std::string shop;
  // About 3 KB of memo per row: the export passes the 2 x 4 MiB a split into two needs.
  std::string filler;
  uint64_t filler_lines = 0;
  for (int k = 0; filler.size() < 3000; ++k, ++filler_lines) filler += "note " + std::to_string(k) + ", \"\"quoted\"\"\n";
  uint64_t line = 6, line_397 = 0;  // title rows and a blank line, the header on line 5
  for (int i = 1; i <= kRefunds; ++i) {
    const std::string n = std::to_string(1000 + i), cents = std::to_string(100 + i % 97);
    const std::string amount = std::to_string(i % 50 + 1) + "." + cents.substr(1);
    if (i % 10 != 0)  // every tenth ERP refund has no storefront refund
      shop += "{\"id\":\"R" + n + "\",\"order_id\":" + n + ",\"note\":\"damaged\",\"transactions\":[{\"status\":"
              "\"success\",\"authorization\":\"re_" + n + "\",\"created_at\":\"2026-03-10T10:05:00-04:00\","
              "\"currency\":\"USD\",\"amount\":\"" + amount + "\"}]}\n";
    std::string row = "CR-" + n + ",CREF" + n + ",03/10/2026 10:12 am,\"Nguyen, Linh\",Sales Order #" + n +
                      ",\"Shopify refund R" + n + "\n" + filler + "\",Refunded,DAMAGED,USD,-" + amount;
    uint64_t lines = 2 + filler_lines;
    if (i % 397 == 0) {
      row = "CR-" + n + ",CREF" + n + ",03/10/2026,\"short\nrow\"";  // four fields
      lines = 2;
      if (i == 397) line_397 = line;
    }
    if (i % 499 == 0) row += "x\"y";  // an amount that is not one
    erp += row + (i % 3 == 0 ? "\r\n" : "\n");
    line += lines;
    if (i % 1000 == 0) {
      erp += "Total - Refunded,,,,,,,,,-1.00\n\n";
      line += 2;
    }
  }
  erp += "Total,,,,,,,,,-3.00\n";
  write_file(dir + "/data/erp_customer_refunds.csv", erp);
  write_file(dir + "/data/storefront_refunds.ndjson", shop);
  REQUIRE(erp.size() > 2 * (size_t{4} << 20));
  return line_397;
}

}  // namespace

TEST_CASE("e2e csv split: a large CSV read on two threads writes the verdicts, rejects and seal of one") {
  TempDir dir;
  const uint64_t line_397 = write_inputs(dir / "s");
  CHECK(line_397 == 6 + 396 * 151);  // each refund before it: its memo's 150 line ends and its own
  const std::string now = "SEAM_NOW=2026-04-01T00:00:00Z";
  auto one = run_seam(dir.path(), "run s --db one.db", now + " SEAM_THREADS=1");
  auto two = run_seam(dir.path(), "run s --db two.db", now + " SEAM_THREADS=2");
  CHECK(one.exit == 1);
  CHECK(two.exit == 1);
  CHECK(one.err == two.err);
  std::string out2 = two.out;
  for (size_t at; (at = out2.find("two.db")) != std::string::npos;) out2.replace(at, 6, "one.db");
  CHECK(out2 == one.out);

  Db db1(dir / "one.db", false), db2(dir / "two.db", false);
  const std::string inputs =
      "SELECT system, digest, rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs ORDER BY system";
  std::vector<std::string> in1 = rows(db1, inputs);
  REQUIRE(in1.size() == 3);  // erp, processor (the example's own), storefront
  // 3 title rows, 3000 refunds and 4 totals read; 7 a field short, 6 with an amount that is not one.
  CHECK(in1[0].substr(0, 3) == "erp");
  CHECK(in1[0].substr(in1[0].find('|', 4)) == "|3007|2987|13|7");
  CHECK(rows(db2, inputs) == in1);

  const std::string rejects = "SELECT system, path, line, reason, raw FROM rejects ORDER BY seq";
  std::vector<std::string> r1 = rows(db1, rejects);
  REQUIRE(r1.size() == 13);
  CHECK(r1[0] == "erp|s/data/erp_customer_refunds.csv|" + std::to_string(line_397) +
                 "|expected 10 fields as in the header, found 4|CR-1397,CREF1397,03/10/2026,\"short\nrow\"");
  CHECK(rows(db2, rejects) == r1);

  const std::string verdicts =
      "SELECT group_no, group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position";
  std::vector<std::string> v1 = rows(db1, verdicts);
  CHECK(v1.size() > 3000);
  CHECK(rows(db2, verdicts) == v1);
  CHECK(rows(db2, "SELECT seal FROM runs") == rows(db1, "SELECT seal FROM runs"));
  // The chain seals the same state, but for the runs table, which holds each process's pid.
  const std::string chain = "SELECT seq, at, event, json_remove(tables, '$.runs') FROM chain ORDER BY seq";
  CHECK(rows(db2, chain) == rows(db1, chain));
}
