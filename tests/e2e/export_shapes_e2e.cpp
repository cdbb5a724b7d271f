// Exports as they come, through the real binary: a processor's daily JSON files (a glob)
// nesting transactions in refunds in orders, against a bank's report-style CSV in
// Windows-1252 with a title, subtotals and carried rows; one ERP export split by `only`.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

TEST_CASE("e2e export shapes: nested JSON in several files against a report-style CSV, every row accounted for") {
  TempDir dir;
  write_file(dir / "stack.lua", R"(stack "shapes"
system "psp" {
  source = json { path = "psp/orders-*.json", records = "orders[].refunds[].transactions[]" },
  id = "tx",
  fields = { tx = "tx", refund = "parent.id", order = "parent.parent.order_id",
             amount = money { column = "amount", currency = "USD" } },
}
system "bank" {
  source = csv { path = "bank.csv", encoding = "windows-1252", header_contains = { "Date", "Amount" },
                 skip_rows = { { column = "Date", starts_with = "Total" }, { column = "Date", empty = true } } },
  id = "ref",
  fields = { ref = "Reference", memo = "Memo", amount = money { column = "Amount", currency = "USD" } },
}
reconcile "refunds_settle" {
  left = "psp", right = "bank", system_of_record = "bank",
  match = { left = "tx", right = "ref" },
  rules = { exists_in { "right" }, amount_equal { field = "amount" } },
}
)");
  write_file(dir / "psp/orders-2026-03-01.json",
             "{\"orders\": [\n"
             " {\"order_id\": \"O1\", \"refunds\": [\n"
             "   {\"id\": \"R1\", \"transactions\": [\n"
             "     {\"tx\": \"T1\", \"amount\": \"10.00\"},\n"
             "     {\"tx\": \"T2\", \"amount\": \"5.00\"}\n"
             "   ]},\n"
             "   {\"id\": \"R2\", \"transactions\": []}\n"
             " ]}\n"
             "]}\n");
  write_file(dir / "psp/orders-2026-03-02.json",
             "{\"orders\": [\n"
             " {\"order_id\": \"O2\", \"refunds\": [\n"
             "   {\"id\": \"R3\", \"transactions\": [\n"
             "     {\"tx\": \"T3\", \"amount\": \"7.50\"},\n"
             "     \"T4\"\n"
             "   ]}\n"
             " ]}\n"
             "]}\n");
  write_file(dir / "bank.csv",
             "Kontoauszug M\xFCller,,,\n"
             ",,,\n"
             "Date,Reference,Amount,Memo\n"
             "2026-03-01,T1,10.00,Caf\xE9\n"
             "2026-03-01,T2,5.00,\x80 refund\n"
             "Total 2026-03-01,,15.00,\n"
             "2026-03-02,T3,7.00,x\n"
             "2026-03-02,T9,1.00,bad\x81\n"
             ",,,carried\n");
  auto r = run_seam(dir.path(), "run .");
  CHECK(r.exit == 1);
  INFO(r.out, r.err);
  CHECK(r.out.find("  psp     psp/orders-*.json  read 5 = accepted 3 + rejected 1 + skipped 1 (1 by the source's own "
                   "skips)\n"
                   "            psp/orders-2026-03-01.json  read 3 = accepted 2 + rejected 0 + skipped 1\n"
                   "            psp/orders-2026-03-02.json  read 2 = accepted 1 + rejected 1\n") != std::string::npos);
  Db db(dir / "seam.db", false);
  // Stored absolute (replay works from any folder); compared below the stack folder.
  const std::string below = "replace(path, '" + std::filesystem::canonical(dir.path()).string() + "/', '')";
  CHECK(rows(db, "SELECT system, " + below + ", rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs "
                 "ORDER BY system") ==
        std::vector<std::string>{"bank|bank.csv|8|3|1|4", "psp|psp/orders-*.json|5|3|1|1"});
  CHECK(rows(db, "SELECT system, file_no, " + below + ", rows_read, rows_accepted, rows_rejected, rows_skipped, "
                 "length(digest) FROM run_input_files ORDER BY file_no") ==
        std::vector<std::string>{"psp|0|psp/orders-2026-03-01.json|3|2|0|1|64",
                                 "psp|1|psp/orders-2026-03-02.json|2|1|1|0|64"});
  CHECK(rows(db, "SELECT system, path, line, reason FROM rejects ORDER BY seq") ==
        std::vector<std::string>{
            "psp|psp/orders-2026-03-02.json|5|expected a JSON object, found a string in 'transactions' (records = "
            "'orders[].refunds[].transactions[]')",
            "bank|bank.csv|8|byte 0x81 on line 8 is not a character in windows-1252 (the encoding declared at "
            "stack.lua:9); it reads as U+FFFD in the raw text. Fix the export or declare its real encoding"});
  CHECK(rows(db, "SELECT raw FROM rejects WHERE system = 'bank'") ==
        std::vector<std::string>{"2026-03-02,T9,1.00,bad\xEF\xBF\xBD"});
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(delta, '') FROM verdicts WHERE outcome <> 'pass' "
                 "ORDER BY group_key, rule") ==
        std::vector<std::string>{"T3|amount equal|fail|-0.50 USD"});
  // The files' rows are sealed with the run: the log verifies, and editing one is caught.
  auto ok = run_seam(dir.path(), "audit verify --stack .");
  CHECK(ok.exit == 0);
  // A replay reads the pattern's files again, and refuses when one of them changed.
  auto same = run_seam(dir.path(), "replay .");
  CHECK(same.exit != 2);
  CHECK(same.err == "");
  // A copy of the stack folder elsewhere replays too: the pattern is found below the stack
  // folder given now, and the files' digests do not depend on the folder they were read from.
  {
    TempDir elsewhere;
    std::filesystem::copy(dir.path(), elsewhere / "moved", std::filesystem::copy_options::recursive);
    auto moved = run_seam(elsewhere.path(), "replay moved");
    CHECK(moved.err == "");
    CHECK(moved.exit != 2);
  }
  write_file(dir / "psp/orders-2026-03-02.json", read_file(dir / "psp/orders-2026-03-02.json") + "\n");
  auto changed = run_seam(dir.path(), "replay .");
  CHECK(changed.exit == 2);
  CHECK(changed.err.find("seam: error: input ") == 0);  // the pattern as stored: absolute
  CHECK(changed.err.find("/psp/orders-*.json (system 'psp') changed since run 1: its digest is ") != std::string::npos);
  auto json = run_seam(dir.path(), "run . --format json");
  CHECK(json.out.find("\"read\":5,\"accepted\":3,\"rejected\":1,\"skipped\":1,\"files\":[{\"path\":"
                      "\"psp/orders-2026-03-01.json\",\"digest\":\"") != std::string::npos);
  {
    Db w(dir / "seam.db", Db::Mode::ReadWrite);
    w.exec("DROP TRIGGER run_input_files_no_update; UPDATE run_input_files SET rows_read = 4, rows_skipped = 1, "
           "rows_accepted = 3, rows_rejected = 0 WHERE file_no = 1");
  }
  auto bad = run_seam(dir.path(), "audit verify --stack .");
  CHECK(bad.exit != 0);
  CHECK(bad.out.find("do not match its seal") != std::string::npos);
}

TEST_CASE("e2e export shapes: one export split by only is read once, each system keeping its own counts") {
  TempDir dir;
  write_file(dir / "stack.lua", R"(stack "split"
local function erp(kind)
  return { source = ndjson { path = "erp.ndjson" }, id = "id", only = { field = "type", values = { kind } },
           fields = { id = "id", type = "type", amount = money { column = "amount", currency = "USD" } } }
end
system "erp_refunds" (erp("refund"))
system "erp_fees" (erp("fee"))
system "psp" {
  source = ndjson { path = "psp.ndjson" }, id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } },
}
reconcile "refunds" {
  left = "psp", right = "erp_refunds", match = { left = "id", right = "id" },
  rules = { exists_in { "right" } },
}
)");
  write_file(dir / "erp.ndjson",
             "{\"id\": \"A\", \"type\": \"refund\", \"amount\": \"1.00\"}\n"
             "{\"id\": \"B\", \"type\": \"fee\", \"amount\": \"0.10\"}\n"
             "{\"id\": \"C\", \"type\": \"refund\", \"amount\": \"x\"}\n"
             "{\"id\": \"D\", \"type\": \"payout\", \"amount\": \"9.00\"}\n");
  write_file(dir / "psp.ndjson", "{\"id\": \"A\", \"amount\": \"1.00\"}\n");
  auto r = run_seam(dir.path(), "run .");
  INFO(r.out, r.err);
  CHECK(r.exit == 1);  // C's amount is rejected
  Db db(dir / "seam.db", false);
  const std::string below = "replace(path, '" + std::filesystem::canonical(dir.path()).string() + "/', '')";
  CHECK(rows(db, "SELECT system, " + below + ", rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs "
                 "ORDER BY system") ==
        std::vector<std::string>{"erp_fees|erp.ndjson|4|1|0|3", "erp_refunds|erp.ndjson|4|1|1|2",
                                 "psp|psp.ndjson|1|1|0|0"});
  CHECK(rows(db, "SELECT count(DISTINCT digest) FROM run_inputs WHERE path LIKE '%/erp.ndjson'") ==
        std::vector<std::string>{"1"});
}
