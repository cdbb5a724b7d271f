// The declared mapping ops (negate, abs, debit/credit, concat, case, trim, null_if,
// coalesce, default, column_by, several `only` conditions, currencies): each from the
// stack DSL through the loader to the native mapper, with exact values and reasons.
#include <doctest/doctest.h>

#include "bindings/stack_loader.hpp"
#include "connectors/fixture.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

std::string stack_text(const std::string& fields, const std::string& before, const std::string& system_options) {
  return "stack \"ops\"\n" + before + "system \"s\" {\n  source = csv { path = \"s.csv\" },\n" + system_options +
         "  fields = {\n" + fields + "\n  },\n}\n";
}

// One system "s" declaring `fields` (line 5 onwards), mapped over fixture rows.
class Ops {
 public:
  explicit Ops(const std::string& fields, const std::string& before = "", const std::string& system_options = "") {
    write_file(dir_ / "stack.lua", stack_text(fields, before, system_options));
    stack_ = load_stack(dir_.path());
  }
  // "1: amount=12.50 USD id=A" per record, "2: reason" per reject, then the counts.
  std::vector<std::string> map(std::vector<FixtureRow> rows) {
    const SystemSpec& sys = stack_.spec.systems.at(0);
    MappedInput in = map_system(sys, stack_.host.get(), make_fixture_connector(std::move(rows), "fixture"));
    std::vector<std::string> out;
    for (size_t r = 0; r < in.records.size(); ++r) {
      std::string line = std::to_string(in.records.line(r)) + ":";
      for (size_t f = 0; f < sys.fields.size(); ++f) line += " " + sys.fields[f].name + "=" + display(in.records.get(r, f));
      out.push_back(line);
    }
    for (const auto& rej : in.rejects) out.push_back(std::to_string(rej.line) + ": " + rej.reason);
    out.push_back("read " + std::to_string(in.stats.read) + " accepted " + std::to_string(in.stats.accepted) +
                  " rejected " + std::to_string(in.stats.rejected) + " skipped " + std::to_string(in.stats.skipped));
    return out;
  }

 private:
  TempDir dir_;
  LoadedStack stack_;
};

// What `seam check` says about a stack declaring `fields`: its first error, or "(valid)".
std::string check_error(const std::string& fields, const std::string& before = "", const std::string& system_options = "") {
  TempDir dir;
  write_file(dir / "stack.lua", stack_text(fields, before, system_options));
  try {
    check_stack(dir.path(), {});
  } catch (const UserError& e) {
    return seam::test::with_dir_as_DIR(e.what(), dir.path());
  }
  return "(valid)";
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("mapping ops: negate and abs on money, integers and quantities, zero and int64 edges included") {
  Ops ops(R"(    neg = money { column = "Amount", currency = "USD", negate = true },
    mag = money { column = "Amount", currency = "USD", abs = true },
    out = money { column = "Amount", currency = "USD", abs = true, negate = true },
    n = integer { column = "N", negate = true },
    q = quantity { column = "Q", unit = "each", abs = true },)",
          "units { base = \"each\" }\n");
  CHECK(ops.map({{{"Amount", "12.50"}, {"N", "7"}, {"Q", "-3"}},
                 {{"Amount", "0.00"}, {"N", "0"}, {"Q", "0"}},
                 {{"Amount", "(3.25)"}, {"N", "-9223372036854775807"}, {"Q", "4"}},
                 {{"Amount", ""}, {"N", "-9223372036854775808"}, {"Q", "1"}}}) ==
        Lines{"1: mag=12.50 USD n=-7 neg=-12.50 USD out=-12.50 USD q=3",
              "2: mag=0.00 USD n=0 neg=0.00 USD out=0.00 USD q=0",
              "3: mag=3.25 USD n=9223372036854775807 neg=3.25 USD out=-3.25 USD q=4",
              "4: negating -9223372036854775808 leaves the int64 range of minor units (-9223372036854775808 to "
              "9223372036854775807) (field 'n', column 'N')",
              "read 4 accepted 3 rejected 1 skipped 0"});
}

TEST_CASE("mapping ops: a signed amount from debit and credit columns, and the rows it refuses") {
  Ops ops(R"(    amount = money { debit = "Debit", credit = "Credit", currency = "USD" },
    id = "Id",)");
  CHECK(ops.map({{{"Id", "a"}, {"Debit", "12.50"}, {"Credit", ""}},
                 {{"Id", "b"}, {"Debit", ""}, {"Credit", "3.00"}},
                 {{"Id", "c"}, {"Debit", "0.00"}, {"Credit", "3.00"}},
                 {{"Id", "d"}, {"Debit", "1.00"}, {"Credit", "3.00"}},
                 {{"Id", "e"}, {"Debit", ""}, {"Credit", " "}},
                 {{"Id", "f"}},
                 {{"Id", "g"}, {"Debit", "-5.00"}, {"Credit", ""}},
                 {{"Id", "h"}, {"Debit", "0.00"}, {"Credit", "0.00"}}}) ==
        Lines{"1: amount=12.50 USD id=a", "2: amount=-3.00 USD id=b", "3: amount=-3.00 USD id=c",
              "8: amount=0.00 USD id=h",
              "4: both debit column 'Debit' ('1.00') and credit column 'Credit' ('3.00') hold an amount (field "
              "'amount', debit 'Debit' / credit 'Credit'); expected one of them",
              "5: neither debit column 'Debit' nor credit column 'Credit' holds an amount (field 'amount', debit "
              "'Debit' / credit 'Credit'); declare default = \"0\" if such rows mean zero",
              "6: neither debit column 'Debit' nor credit column 'Credit' holds an amount (field 'amount', debit "
              "'Debit' / credit 'Credit'); declare default = \"0\" if such rows mean zero",
              "7: debit column 'Debit' holds '-5.00', a negative amount (field 'amount', debit 'Debit' / credit "
              "'Credit'): debit and credit columns are read as magnitudes",
              "read 8 accepted 4 rejected 4 skipped 0"});

  Ops statement(R"(    amount = money { debit = "Dr", credit = "Cr", currency = "EUR", credit_sign = "positive", default = "0", null_if = { "-" } },)");
  CHECK(statement.map({{{"Dr", "12.50"}, {"Cr", "-"}}, {{"Dr", "-"}, {"Cr", "3.00"}}, {{"Dr", ""}, {"Cr", "-"}}}) ==
        Lines{"1: amount=-12.50 EUR", "2: amount=3.00 EUR", "3: amount=0.00 EUR", "read 3 accepted 3 rejected 0 skipped 0"});
}

TEST_CASE("mapping ops: concat joins columns into one text, and a missing part leaves it without a value") {
  Ops ops(R"(    key = concat { columns = { "order_id", "sku" }, separator = "-", trim = true, case = "upper" },
    plain = concat { columns = { "order_id", "sku" } },
    id = "order_id",)");
  CHECK(ops.map({{{"order_id", "a1"}, {"sku", " s9 "}},
                 {{"order_id", "a2"}},
                 {{"order_id", "a3"}, {"sku", ""}}}) ==
        Lines{"1: id=a1 key=A1-S9 plain=a1 s9 ", "2: id=a2 key=(missing) plain=(missing)", "3: id=a3 key=(empty) plain=(empty)",
              "read 3 accepted 3 rejected 0 skipped 0"});

  Ops keyed(R"(    key = concat { columns = { "order_id", "sku" }, separator = "/", required = true, null_if = { "N/A" } },)");
  CHECK(keyed.map({{{"order_id", "7"}, {"sku", "X"}}, {{"order_id", "8"}, {"sku", "n/a"}}}) ==
        Lines{"1: key=7/X", "2: required field 'key' is empty (columns 'order_id', 'sku')",
              "read 2 accepted 1 rejected 1 skipped 0"});
}

TEST_CASE("mapping ops: lower, upper and trim on text") {
  Ops ops(R"(    lo = text { column = "Name", case = "lower" },
    up = text { column = "Name", case = "upper", trim = true },
    t = text { column = "Name", trim = true },
    d = text { column = "Name", trim = true, default = "anonymous" },)");
  CHECK(ops.map({{{"Name", "  Ada Lovelace "}}, {{"Name", "   "}}, {{"Name", "\xC3\x89mile"}}}) ==
        Lines{"1: d=Ada Lovelace lo=  ada lovelace  t=Ada Lovelace up=ADA LOVELACE",
              "2: d=anonymous lo=    t=(empty) up=(empty)",
              "3: d=\xC3\x89mile lo=\xC3\x89mile t=\xC3\x89mile up=\xC3\x89MILE", "read 3 accepted 3 rejected 0 skipped 0"});
}

TEST_CASE("mapping ops: null_if sentinels mean no value, compared trimmed and ignoring case") {
  Ops ops(R"(    stock = integer { column = "Stock", null_if = { "N/A", "not stocked", "-" } },
    price = money { column = "Price", currency = "USD", null_if = { "-" } },
    note = text { column = "Note", null_if = { "N/A" } },)");
  CHECK(ops.map({{{"Stock", "N/A"}, {"Price", "-"}, {"Note", "n/a"}},
                 {{"Stock", " Not Stocked "}, {"Price", "1.00"}, {"Note", "N/A please"}},
                 {{"Stock", "-"}, {"Price", "- "}, {"Note", ""}},
                 {{"Stock", "12"}, {"Price", "--"}, {"Note", "x"}}}) ==
        Lines{"1: note=(empty) price=(empty) stock=(empty)", "2: note=N/A please price=1.00 USD stock=(empty)",
              "3: note=(empty) price=(empty) stock=(empty)",
              "4: cannot read '--' as an amount: two sign notations (a leading '-' and a leading '-'): use one (field "
              "'price', column 'Price')",
              "read 4 accepted 3 rejected 1 skipped 0"});
}

TEST_CASE("mapping ops: coalesce takes the first column with a value, and default fills what none has") {
  Ops ops(R"(    ref = text { columns = { "Ref", "AltRef" }, null_if = { "N/A" } },
    amount = money { columns = { "Net", "Gross" }, currency = "USD", default = "0.00" },
    at = time { columns = { "Posted", "Created" }, default = "2026-01-01T00:00:00Z" },
    n = integer { column = "N", default = 1 },)");
  CHECK(ops.map({{{"Ref", "R1"}, {"AltRef", "R2"}, {"Net", "1.00"}, {"Gross", "2.00"}, {"Posted", "2026-03-01T10:00:00Z"}, {"N", "5"}},
                 {{"Ref", ""}, {"AltRef", "R2"}, {"Net", ""}, {"Gross", "2.00"}, {"Created", "2026-03-02T10:00:00Z"}, {"N", ""}},
                 {{"Ref", "N/A"}, {"AltRef", "R3"}},
                 {{"Ref", ""}},
                 {}}) ==
        Lines{"1: amount=1.00 USD at=2026-03-01T10:00:00Z n=5 ref=R1",
              "2: amount=2.00 USD at=2026-03-02T10:00:00Z n=1 ref=R2",
              "3: amount=0.00 USD at=2026-01-01T00:00:00Z n=1 ref=R3",
              "4: amount=0.00 USD at=2026-01-01T00:00:00Z n=1 ref=(empty)",
              "5: amount=0.00 USD at=2026-01-01T00:00:00Z n=1 ref=(missing)",
              "read 5 accepted 5 rejected 0 skipped 0"});
}

TEST_CASE("mapping ops: map_values keeps default as the value of an unmapped code") {
  Ops ops(R"(    status = map_values { column = "St", map = { R = "refunded" }, default = "other", null_if = { "?" } },)");
  CHECK(ops.map({{{"St", "R"}}, {{"St", "X"}}, {{"St", "?"}}, {}}) ==
        Lines{"1: status=refunded", "2: status=other", "3: status=(empty)", "4: status=(missing)",
              "read 4 accepted 4 rejected 0 skipped 0"});
}

TEST_CASE("mapping ops: column_by reads the column another field's value chooses, with its sign by type") {
  Ops ops(R"(    type = "type",
    amount = money { currency = "USD", minor_units = true, column_by = { field = "type",
      columns = { LOAD = "load_activity_details.amount_money.amount", REDEEM = "redeem_activity_details.amount_money.amount" },
      negate = { "REDEEM" } } },)");
  CHECK(ops.map({{{"type", "LOAD"}, {"load_activity_details.amount_money.amount", "2500"}},
                 {{"type", "REDEEM"}, {"redeem_activity_details.amount_money.amount", "700"},
                  {"load_activity_details.amount_money.amount", "9999"}},
                 {{"type", "REDEEM"}, {"redeem_activity_details.amount_money.amount", "0"}},
                 {{"type", "ADJUST"}, {"load_activity_details.amount_money.amount", "1"}},
                 {{"type", ""}},
                 {{"type", "LOAD"}}}) ==
        Lines{"1: amount=25.00 USD type=LOAD", "2: amount=-7.00 USD type=REDEEM", "3: amount=0.00 USD type=REDEEM",
              "6: amount=(missing) type=LOAD",
              "4: field 'type' is 'ADJUST', for which column_by of field 'amount' names no column (declared: LOAD, REDEEM)",
              "5: field 'type', which chooses the column of field 'amount', is empty",
              "read 6 accepted 4 rejected 2 skipped 0"});
}

TEST_CASE("mapping ops: only keeps the records all or any of several conditions hold for") {
  const std::string fields = R"(    type = "type",
    state = text { column = "state", case = "upper" },
    ref = "ref",)";
  Ops all(fields, "",
          "  only = { all = { { field = \"type\", values = { \"LOAD\", \"REDEEM\" } }, { field = \"state\", equals = "
          "\"COMPLETED\" } } },\n");
  std::vector<FixtureRow> rows = {{{"type", "LOAD"}, {"state", "completed"}, {"ref", "GC-1"}},
                                  {{"type", "LOAD"}, {"state", "PENDING"}, {"ref", "GC-2"}},
                                  {{"type", "ADJUST"}, {"state", "COMPLETED"}, {"ref", "X-3"}},
                                  {{"type", "REDEEM"}, {"state", "COMPLETED"}, {"ref", "X-4"}},
                                  {{"state", "COMPLETED"}, {"ref", "GC-5"}}};
  CHECK(all.map(rows) == Lines{"1: ref=GC-1 state=COMPLETED type=LOAD", "4: ref=X-4 state=COMPLETED type=REDEEM",
                               "read 5 accepted 2 rejected 0 skipped 3"});
  Ops any(fields, "",
          "  only = { any = { { field = \"type\", equals = \"ADJUST\" }, { field = \"ref\", matches = \"^GC-\" } } },\n");
  CHECK(any.map(rows) == Lines{"1: ref=GC-1 state=COMPLETED type=LOAD", "2: ref=GC-2 state=PENDING type=LOAD",
                               "3: ref=X-3 state=COMPLETED type=ADJUST", "5: ref=GC-5 state=COMPLETED type=(missing)",
                               "read 5 accepted 4 rejected 0 skipped 1"});
  Ops one(fields, "", "  only = { field = \"ref\", matches = \"-[45]$\" },\n");
  CHECK(one.map(rows) == Lines{"4: ref=X-4 state=COMPLETED type=REDEEM", "5: ref=GC-5 state=COMPLETED type=(missing)",
                               "read 5 accepted 2 rejected 0 skipped 3"});
}

TEST_CASE("mapping ops: unknown currencies are refused unless declared, symbols must agree with the currency") {
  Ops ops(R"(    amount = money { column = "Amount", currency_column = "Cur" },)", "currencies { ZZT = 8 }\n");
  CHECK(ops.map({{{"Amount", "0.12345678"}, {"Cur", "ZZT"}},
                 {{"Amount", "1.00"}, {"Cur", "BTC"}},
                 {{"Amount", "1.00"}, {"Cur", "XXX"}},
                 {{"Amount", "1.500"}, {"Cur", "BHD"}},
                 {{"Amount", "1.2345"}, {"Cur", "UYW"}},
                 {{"Amount", "1500"}, {"Cur", "KRW"}},
                 {{"Amount", "$12.50"}, {"Cur", "CAD"}},
                 {{"Amount", "\xE2\x82\xAC" "12.50"}, {"Cur", "USD"}},
                 {{"Amount", "12.50 XTS"}, {"Cur", "USD"}},
                 {{"Amount", "15.5"}, {"Cur", "JPY"}}}) ==
        Lines{"1: amount=0.12345678 ZZT", "4: amount=1.500 BHD", "5: amount=1.2345 UYW", "6: amount=1500 KRW",
              "7: amount=12.50 CAD",
              "2: currency BTC is not in ISO 4217; if it is meant, declare it with its decimals: currencies { BTC = 8 } "
              "(field 'amount', column 'Amount')",
              "3: currency XXX is not in ISO 4217; if it is meant, declare it with its decimals: currencies { XXX = 8 } "
              "(field 'amount', column 'Amount')",
              "8: amount '\xE2\x82\xAC" "12.50' is written with '\xE2\x82\xAC', which is not a symbol of USD (field "
              "'amount', column 'Amount')",
              "9: amount '12.50 XTS': currency XTS is not in ISO 4217; if it is meant, declare it with its decimals: "
              "currencies { XTS = 8 } (field 'amount', column 'Amount')",
              "10: cannot read '15.5' as an amount: more than 0 decimal places (field 'amount', column 'Amount')",
              "read 10 accepted 5 rejected 5 skipped 0"});

  Ops euro(R"(    amount = money { column = "Betrag", currency = "EUR", decimal = ",", dash = "zero" },)");
  CHECK(euro.map({{{"Betrag", "1.234,56 \xE2\x82\xAC"}}, {{"Betrag", "-"}}, {{"Betrag", "12,00 CR"}}, {{"Betrag", "\xC2\xA3" "1,00"}}}) ==
        Lines{"1: amount=1234.56 EUR", "2: amount=0.00 EUR", "3: amount=-12.00 EUR",
              "4: amount '\xC2\xA3" "1,00' is written with '\xC2\xA3', which is not a symbol of EUR (field 'amount', column "
              "'Betrag')",
              "read 4 accepted 3 rejected 1 skipped 0"});
}

TEST_CASE("mapping ops: unix times in the wrong unit reject the row with the unit they fit") {
  Ops ops(R"(    at = time { column = "ts", format = "unix_ms" },)");
  CHECK(ops.map({{{"ts", "1773483720500"}}, {{"ts", "1773483720"}}}) ==
        Lines{"1: at=2026-03-14T10:22:00.500Z",
              "2: cannot read '1773483720' as a Unix time in milliseconds: it is outside 1990-01-01 to 2099-12-31; it "
              "looks like seconds: declare format = \"unix\" (field 'at', column 'ts')",
              "read 2 accepted 1 rejected 1 skipped 0"});
}

TEST_CASE("mapping ops: combinations that cannot work are refused at load with file:line") {
  CHECK(check_error("    name = text { column = \"Name\", negate = true },") ==
        "DIR/stack.lua:5: text { ... } has no option 'negate' (options: column, columns, null_if, default, required, trim, case)");
  CHECK(check_error("    amount = money { column = \"Amount\", minor_units = true },") ==
        "DIR/stack.lua:5: money { minor_units = true } needs currency = ... or currency_column = ...: how many minor "
        "units make one unit depends on the currency");
  CHECK(check_error("    amount = money { debit = \"Debit\", currency = \"USD\" },") ==
        "DIR/stack.lua:5: money { debit = ... } needs credit = ... as well: a signed amount is read from a debit and a "
        "credit column together");
  CHECK(check_error("    amount = money { column = \"A\", debit = \"D\", credit = \"C\", currency = \"USD\" },") ==
        "DIR/stack.lua:5: money { ... } reads one of column, columns, column_by or debit and credit; found column and "
        "debit and credit");
  CHECK(check_error("    amount = money { currency = \"USD\" },") ==
        "DIR/stack.lua:5: money { column = ... } expects a non-empty string, found nil");
  CHECK(check_error("    amount = money { column = \"A\", currency = \"XXX\" },") ==
        "DIR/stack.lua:5: field 'amount': currency XXX is not in ISO 4217; if it is meant, declare it with its "
        "decimals: currencies { XXX = 8 }");
  CHECK(check_error("    amount = money { column = \"A\", currency = \"USD\", credit_sign = \"minus\" },") ==
        "DIR/stack.lua:5: money { credit_sign = ... } must be \"negative\" (credits below zero, the ledger convention) "
        "or \"positive\", found 'minus'");
  CHECK(check_error("    amount = money { column = \"A\", currency = \"USD\", dash = \"nothing\" },") ==
        "DIR/stack.lua:5: money { dash = ... } must be \"zero\" (a lone '-' means 0); for '-' meaning no value write "
        "null_if = { \"-\" }");
  CHECK(check_error("    amount = money { column = \"A\", currency = \"USD\", dash = \"zero\", null_if = { \"N/A\", \"-\" } },") ==
        "DIR/stack.lua:5: money { dash = \"zero\", null_if = { \"-\" } } says both that '-' is 0 and that it is no "
        "value: keep one");
  CHECK(check_error("    key = concat { columns = { \"a\" } },") == "DIR/stack.lua:5: concat { columns = ... } needs at least 2 entries");
  CHECK(check_error("    key = concat { separator = \"-\" },") ==
        "DIR/stack.lua:5: concat { ... } needs columns = { \"a\", \"b\", ... } (the parts, in order)");
  CHECK(check_error("    name = text { column = \"Name\", case = \"title\" },") ==
        "DIR/stack.lua:5: text { case = ... } must be \"lower\" or \"upper\", found 'title'");
  CHECK(check_error("    n = integer { column = \"N\", default = \"one\" },") ==
        "DIR/stack.lua:5: field 'n' of system 's': default 'one' is not a whole number");
  CHECK(check_error("    amount = money { column = \"A\", currency = \"JPY\", default = \"0.5\" },") ==
        "DIR/stack.lua:5: field 'amount' of system 's': default '0.5' cannot read '0.5' as an amount: more than 0 "
        "decimal places");
  CHECK(check_error("    amount = money { currency = \"USD\", column_by = { field = \"kind\", columns = { A = \"a\" } } },") ==
        "DIR/stack.lua:5: field 'amount' of system 's': column_by { field = 'kind' }, which system 's' does not declare");
  CHECK(check_error("    amount = money { currency = \"USD\", column_by = { field = \"kind\", columns = { A = \"a\" }, negate = { \"B\" } } },") ==
        "DIR/stack.lua:5: money { column_by = ... } { negate = ... } names 'B', which columns does not (declared: A)");
  CHECK(check_error("    x = \"x\",", "currencies { btc = 8 }\n") ==
        "DIR/stack.lua:2: currencies { ... } keys are three upper-case letters such as BTC, found 'btc'");
  CHECK(check_error("    x = \"x\",", "currencies { USD = 3 }\n") ==
        "DIR/stack.lua:2: currencies { USD = 3 }: currency USD is in ISO 4217 already (2 decimals); declare only codes "
        "ISO 4217 does not have");
  CHECK(check_error("    x = \"x\",", "", "  only = { all = { { field = \"x\", equals = \"a\" } }, any = { { field = \"x\", equals = \"b\" } } },\n") ==
        "DIR/stack.lua:2: system \"s\" only takes all = {...} or any = {...}, not both");
  CHECK(check_error("    x = \"x\",", "", "  only = { all = { { field = \"y\", equals = \"a\" } } },\n") ==
        "DIR/stack.lua:2: system 's' only { field = 'y' }, which system 's' does not declare");
  CHECK(check_error("    x = \"x\",", "", "  only = { field = \"x\", equals = \"a\", values = { \"b\" } },\n") ==
        "DIR/stack.lua:2: system \"s\" only needs one of values = {...}, equals = \"...\" or matches = \"regex\"");
  CHECK(check_error("    x = \"x\",", "", "  only = { field = \"x\", matches = \"(\" },\n") ==
        "DIR/stack.lua:2: system 's' only { matches = ... }: invalid regex '(' at offset 1: missing closing parenthesis");
}

TEST_CASE("mapping ops: an NDJSON input mapped with ops on several threads maps exactly as read whole") {
  TempDir dir;
  write_file(dir / "stack.lua", R"(stack "ops"
system "s" {
  source = ndjson { path = "acts.ndjson" },
  id = "key",
  only = { any = { { field = "type", values = { "LOAD", "REDEEM" } }, { field = "ref", matches = "^keep" } } },
  fields = {
    key = concat { columns = { "ref", "seq" }, separator = "/", case = "upper" },
    ref = text { columns = { "ref", "alt" }, null_if = { "N/A" } },
    type = "type",
    amount = money { currency = "USD", minor_units = true, default = "0", column_by = { field = "type",
      columns = { LOAD = "load.amount", REDEEM = "redeem.amount", ADJUST = "adjust.amount" }, negate = { "REDEEM" } } },
  },
}
)");
  std::string text;
  for (int i = 1; i <= 60; ++i) {
    const char* type = i % 4 == 0 ? "REDEEM" : i % 4 == 1 ? "LOAD" : i % 4 == 2 ? "ADJUST" : "OTHER";
    std::string field = i % 4 == 0 ? "redeem" : i % 4 == 1 ? "load" : "adjust";
    std::string ref = i % 6 == 0 ? "\"ref\":\"N/A\",\"alt\":\"keep-" + std::to_string(i) + "\"" : "\"ref\":\"r" + std::to_string(i) + "\"";
    text += "{" + ref + ",\"seq\":" + std::to_string(i) + ",\"type\":\"" + type + "\",\"" + field +
            "\":{\"amount\":" + (i % 9 == 0 ? std::string("\"x\"") : std::to_string(i * 100)) + "}}\n";
  }
  write_file(dir / "acts.ndjson", text);
  LoadedStack stack = load_stack(dir.path());
  const SystemSpec& sys = stack.spec.systems.at(0);
  auto describe = [&](const MappedInput& in) {
    std::vector<std::string> out;
    for (size_t r = 0; r < in.records.size(); ++r) {
      std::string line = std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r));
      for (size_t f = 0; f < sys.fields.size(); ++f) line += " " + display(in.records.get(r, f));
      out.push_back(line);
    }
    for (const auto& rej : in.rejects) out.push_back(std::to_string(rej.line) + ": " + rej.reason);
    out.push_back(std::to_string(in.stats.read) + "/" + std::to_string(in.stats.accepted) + "/" +
                  std::to_string(in.stats.rejected) + "/" + std::to_string(in.stats.skipped));
    return out;
  };
  MappedInput whole = map_system(sys, stack.host.get(), MapOptions{1});
  std::vector<std::string> expected = describe(whole);
  // Kept: 30 loads and redemptions, and the 5 ADJUST rows whose ref falls back to "keep-N";
  // of those, the 5 with the amount "x" are rejected.
  CHECK(expected.back() == "60/30/5/25");
  CHECK(expected[0] == "1 R1/1 1.00 USD R1/1 r1 LOAD");
  CHECK(expected[1] == "4 R4/4 -4.00 USD R4/4 r4 REDEEM");
  CHECK(expected[3] == "6 N/A/6 6.00 USD N/A/6 keep-6 ADJUST");
  for (size_t threads : {2, 3, 5}) {
    CAPTURE(threads);
    CHECK(describe(map_system(sys, stack.host.get(), MapOptions{threads, 1})) == expected);
  }
}

TEST_CASE("mapping ops: a Lua mapping function gets the same refusal for a currency that is not in ISO 4217") {
  Ops ops(R"(    amount = function(row) return money_of(row["A"], row["C"]) end,)", "currencies { ZZL = 3 }\n");
  auto out = ops.map({{{"A", "1.250"}, {"C", "ZZL"}}, {{"A", "1.00"}, {"C", "BTC"}}});
  REQUIRE(out.size() == 3);
  CHECK(out[0] == "1: amount=1.250 ZZL");
  CHECK(out[1].find("2: mapping function for field 'amount' failed: ") == 0);
  CHECK(out[1].find("money(amount, currency): currency BTC is not in ISO 4217; if it is meant, declare it with its "
                    "decimals: currencies { BTC = 8 }") != std::string::npos);
  CHECK(out[2] == "read 2 accepted 1 rejected 1 skipped 0");
}
