// Declared mapping ops through the real binary: a gift card ledger exported with a decimal
// comma, debit/credit columns and a dash for nothing, against a processor export whose
// amount sits in a column chosen by the activity type (Square's <type>_activity_details).
// No Lua: every field is a declaration.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const char* kStack = R"LUA(stack "cards"

system "ledger" {
  source = csv { path = "ledger.csv", delimiter = ";" },
  id = "entry",
  only = { all = { { field = "kind", values = { "LOAD", "REDEEM" } }, { field = "state", equals = "posted" } } },
  fields = {
    entry = concat { columns = { "Card", "Seq" }, separator = "-", trim = true, case = "upper" },
    kind = text { column = "Kind", case = "upper" },
    state = text { column = "State", case = "lower", trim = true },
    -- loads credit the card liability: credits count positive here
    amount = money { debit = "Debit", credit = "Credit", currency = "EUR", decimal = ",", null_if = { "-" },
                     credit_sign = "positive" },
  },
}

system "processor" {
  source = ndjson { path = "activities.ndjson" },
  id = "id",
  only = { field = "type", values = { "LOAD", "REDEEM" } },
  fields = {
    id = "id",
    ref = text { column = "reference_id", case = "upper" },
    card = text { columns = { "gan", "card.gan" }, case = "upper", required = true },
    type = "type",
    amount = money { currency = "EUR", minor_units = true, column_by = { field = "type",
      columns = { LOAD = "load_activity_details.amount_money.amount",
                  REDEEM = "redeem_activity_details.amount_money.amount" },
      negate = { "REDEEM" } } },
    at = time { column = "created_at", format = "unix_ms" },
  },
}

reconcile "cards" {
  left = "ledger", right = "processor",
  match = { left = "entry", right = "ref" },
  rules = { exists_in "right", amount_equal { field = "amount" } },
}
)LUA";

const char* kLedger =
    "Card;Seq;Kind;State;Debit;Credit\n"
    "gc1;1;load;Posted;-;25,00\n"
    "gc1;2;redeem;posted;7,00;-\n"
    "gc2;1;load;posted;-;1.250,00\n"
    "gc3;1;load;posted;10,00;10,00\n"
    "gc4;1;load;pending;-;5,00\n"
    "gc5;1;adjust;posted;-;1,00\n"
    "gc6;1;redeem;posted;4,00;-\n";

const char* kActivities =
    R"({"id":"a1","reference_id":"gc1-1","type":"LOAD","gan":"gc1","load_activity_details":{"amount_money":{"amount":2500}},"created_at":1772359200000})"
    "\n"
    R"({"id":"a2","reference_id":"gc1-2","type":"REDEEM","card":{"gan":"gc1"},"redeem_activity_details":{"amount_money":{"amount":700}},"created_at":1772449200000})"
    "\n"
    R"({"id":"a3","reference_id":"gc2-1","type":"LOAD","gan":"gc2","load_activity_details":{"amount_money":{"amount":125000}},"created_at":1772452800000})"
    "\n"
    R"({"id":"a4","reference_id":"gc6-1","type":"REDEEM","gan":"gc6","redeem_activity_details":{"amount_money":{"amount":500}},"created_at":1772616600000})"
    "\n"
    R"({"id":"a5","reference_id":"gc9-1","type":"ADJUST_INCREMENT","gan":"gc9","created_at":1772618400000})"
    "\n"
    R"({"id":"a6","reference_id":"gc7-1","type":"LOAD","gan":"gc7","load_activity_details":{"amount_money":{"amount":100}},"created_at":1772704800})"
    "\n";

}  // namespace

TEST_CASE("e2e mapping ops: debit and credit, decimal comma, concat, case, coalesce, column_by and only, with no Lua") {
  TempDir dir;
  write_file(dir / "cards/stack.lua", kStack);
  write_file(dir / "cards/ledger.csv", kLedger);
  write_file(dir / "cards/activities.ndjson", kActivities);
  auto check = run_seam(dir.path(), "check cards");
  CHECK(check.err == "");
  CHECK(check.exit == 0);

  auto run = run_seam(dir.path(), "run cards");
  CHECK(run.exit == 1);
  Db db(dir / "cards/seam.db", false);
  CHECK(rows(db, "SELECT system, rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs ORDER BY system") ==
        std::vector<std::string>{"ledger|7|4|1|2", "processor|6|4|1|1"});
  CHECK(rows(db, "SELECT system, line, reason FROM rejects ORDER BY seq") ==
        std::vector<std::string>{
            "ledger|5|both debit column 'Debit' ('10,00') and credit column 'Credit' ('10,00') hold an amount (field "
            "'amount', debit 'Debit' / credit 'Credit'); expected one of them",
            "processor|6|cannot read '1772704800' as a Unix time in milliseconds: it is outside 1990-01-01 to "
            "2099-12-31; it looks like seconds: declare format = \"unix\" (field 'at', column 'created_at')"});
  // Loads positive and redemptions negative on both sides: only GC6-1 differs, by a euro.
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(expected, ''), coalesce(actual, '') FROM verdicts "
                 "ORDER BY group_key, position") ==
        std::vector<std::string>{"GC1-1|exists in right|pass||", "GC1-1|amount equal|pass||", "GC1-1|cardinality|pass||",
                                 "GC1-2|exists in right|pass||", "GC1-2|amount equal|pass||", "GC1-2|cardinality|pass||",
                                 "GC2-1|exists in right|pass||", "GC2-1|amount equal|pass||", "GC2-1|cardinality|pass||",
                                 "GC6-1|exists in right|pass||", "GC6-1|amount equal|fail|-4.00 EUR|-5.00 EUR",
                                 "GC6-1|cardinality|pass||"});

  // An op where it cannot work fails the check at its line, before any data is read.
  std::string broken = kStack;
  const std::string kind = "kind = text { column = \"Kind\", case = \"upper\" }";
  broken.replace(broken.find(kind), kind.size(), "kind = text { column = \"Kind\", negate = true }");
  write_file(dir / "broken/stack.lua", broken);
  auto bad = run_seam(dir.path(), "check broken");
  CHECK(bad.exit == 2);
  CHECK(bad.err.find("broken/stack.lua:9: text { ... } has no option 'negate' (options: column, columns, null_if, "
                     "default, required, trim, case)") != std::string::npos);
}
