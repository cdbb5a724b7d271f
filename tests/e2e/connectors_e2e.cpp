// The json and sqlite connectors through the real binary: a gift card platform's JSON
// export against an ERP's SQLite liability table, with a malformed record on each side.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

TEST_CASE("e2e connectors: a JSON export and a SQLite query reconcile, bad rows are quarantined and counted") {
  TempDir dir;
  write_file(dir / "stack.lua", R"(stack "cards"
system "platform" {
  source = json { path = "platform.json", records = "data.loads" },
  id = "id",
  fields = { id = "id", card = "card.number", amount = money { column = "amount", currency = "USD" } },
}
system "erp" {
  source = sqlite { path = "erp.db", query = "SELECT doc, card, amount FROM liability WHERE kind = 'load'" },
  id = "doc",
  fields = { doc = "doc", card = "card", amount = money { column = "amount", currency = "USD" } },
}
reconcile "loads_reach_erp" {
  left = "platform", right = "erp", system_of_record = "erp",
  match = { left = "card", right = "card" },
  rules = { exists_in { "right", severity = "critical" }, amount_equal { field = "amount" } },
}
)");
  write_file(dir / "platform.json", "{\"data\": {\"count\": 4, \"loads\": [\n"
                                    "  {\"id\": \"L1\", \"card\": {\"number\": \"GC-1\"}, \"amount\": \"50.00\"},\n"
                                    "  {\"id\": \"L2\", \"card\": {\"number\": \"GC-2\"}, \"amount\": \"25.00\"},\n"
                                    "  {\"id\": \"L3\", \"card\": {\"number\": \"GC-3\"}, \"amount\": 10.00,},\n"
                                    "  {\"id\": \"L4\", \"card\": {\"number\": \"GC-4\"}, \"amount\": \"100.00\"}\n"
                                    "]}}\n");
  {
    Db db(dir / "erp.db", Db::Mode::Create);
    db.exec("CREATE TABLE liability (doc TEXT, card TEXT, amount TEXT, kind TEXT);"
            "INSERT INTO liability VALUES ('JE-1', 'GC-1', '50.00', 'load'), ('JE-2', 'GC-2', '20.00', 'load'),"
            "('JE-3', 'GC-9', 'twelve', 'load'), ('JE-4', 'GC-1', '-5.00', 'redemption');");
  }
  auto r = run_seam(dir.path(), "run . --format json");
  CHECK(r.exit == 1);
  // rows read = accepted + rejected, per input
  CHECK(r.out.find("{\"system\":\"platform\",\"path\":\"platform.json\",\"digest\":\"") != std::string::npos);
  CHECK(r.out.find("\"read\":4,\"accepted\":3,\"rejected\":1,\"skipped\":0},{\"system\":\"erp\",\"path\":\"erp.db\",") !=
        std::string::npos);
  CHECK(r.out.find("\"read\":3,\"accepted\":2,\"rejected\":1,\"skipped\":0}]") != std::string::npos);
  Db db(dir / "seam.db", false);
  CHECK(rows(db, "SELECT system, line, reason, raw FROM rejects ORDER BY system") ==
        std::vector<std::string>{
            "erp|3|cannot read 'twelve' as an amount: unexpected character 't' (field 'amount', column 'amount')|"
            "{\"doc\":\"JE-3\",\"card\":\"GC-9\",\"amount\":\"twelve\"}",
            "platform|4|invalid JSON: The JSON document has an improper structure: missing or superfluous commas, "
            "braces, missing keys, etc.|{\"id\": \"L3\", \"card\": {\"number\": \"GC-3\"}, \"amount\": 10.00,}"});
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(delta, '') FROM verdicts WHERE outcome <> 'pass' "
                 "ORDER BY group_key, rule") ==
        std::vector<std::string>{"GC-2|amount equal|fail|-5.00 USD", "GC-4|amount equal|skip|",
                                 "GC-4|exists in right|fail|-100.00 USD"});
  CHECK(rows(db, "SELECT group_key, system_of_record, severity FROM exceptions ORDER BY id") ==
        std::vector<std::string>{"GC-2|erp|medium", "GC-4|erp|critical"});
}
