// `seam check --data` on real files, `seam check` refusing declarations that cannot work at
// run time, and `seam run --profile`: the real binary, exact messages.
#include <doctest/doctest.h>

#include <regex>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// A storefront CSV against a payment processor's NDJSON: amounts in minor units with their
// currency beside them, a status recoded by map_values, then compared by value_map.
const char* kPayStack = R"(stack "pay"
system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = {
    id = "id",
    amount = money { column = "Amount", currency = "USD" },
    status = "status",
  },
}
system "stripe" {
  source = ndjson { path = "stripe.ndjson" },
  id = "id",
  fields = {
    id = "id",
    amount = money { column = "amount_cent", currency_column = "currency", minor_units = true },
    status = map_values { column = "charge.status", map = { succeeded = "paid" } },
  },
}
reconcile "r" {
  left = "shop", right = "stripe", match = { left = "id", right = "id" },
  rules = {
    amount_equal { field = "amount" },
    value_map { name = "status matches", field = "status", map = { paid = "paid" } },
  },
}
)";

void write_pay(const TempDir& dir, const std::string& stack = kPayStack) {
  write_file(dir / "pay/stack.lua", stack);
  write_file(dir / "pay/shop.csv", "id,Amount,status\nA,1.00,paid\nB,2.00,refunded\nC,3.00,paid\n");
  write_file(dir / "pay/stripe.ndjson",
             "{\"id\":\"A\",\"amount_cent\":100,\"currency\":\"usd\",\"charge\":{\"status\":\"succeeded\"}}\n"
             "{\"id\":\"B\",\"amount_cent\":200,\"currency\":\"usd\",\"charge\":{\"status\":\"partially_refunded\"}}\n"
             "{\"id\":\"C\",\"amount_cent\":300,\"currency\":\"usd\",\"charge\":{\"status\":\"partially_refunded\"}}\n");
}

std::string with(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("e2e check --data: a misspelt CSV header and a misspelt NDJSON path are errors naming the nearest") {
  TempDir dir;
  write_pay(dir, with(with(kPayStack, "column = \"Amount\"", "column = \"Amout\""), "\"amount_cent\"",
                      "\"amount_cents\""));
  auto plain = run_seam(dir.path(), "check pay");  // without data nothing can tell
  CHECK(plain.exit == 0);
  for (const char* args : {"check pay --data", "check pay --data --strict"}) {
    auto r = run_seam(dir.path(), args);
    CHECK(r.exit == 2);
    CHECK(r.err ==
          "pay/stack.lua:7: error: field 'amount' of system 'shop': column 'Amout' is not in the header of pay/shop.csv "
          "(did you mean 'Amount'?)\n"
          "pay/stack.lua:16: error: field 'amount' of system 'stripe': column path 'amount_cents' is missing on all 3 "
          "sampled rows (nearest: 'amount_cent')\n"
          "seam: error: stack pay cannot work on its inputs: 2 errors in the sample\n");
    CHECK(r.out.find("sample of shop: all 3 rows of pay/shop.csv (not mapped: a declared column is not in it)\n") == 0);
    CHECK(r.out.find("is valid") == std::string::npos);
  }
  // The nearest is the closest path the sample holds, however far.
  write_pay(dir, with(kPayStack, "\"charge.status\"", "\"charge.state\""));
  auto r = run_seam(dir.path(), "check pay --data");
  CHECK(r.exit == 2);
  CHECK(r.err == "pay/stack.lua:17: error: field 'status' of system 'stripe': column path 'charge.state' is missing on "
                 "all 3 sampled rows (nearest: 'charge.status')\n"
                 "seam: error: stack pay cannot work on its inputs: 1 error in the sample\n");
}

TEST_CASE("e2e check --data: a path that is null on every sampled row is a warning, not an error") {
  TempDir dir;
  // The processor exports "reason": null until a refund carries one: optional, not misspelt.
  write_pay(dir, with(kPayStack, "    status = map_values", "    reason = \"refund.reason\",\n    status = map_values"));
  std::string ndjson = read_file(dir / "pay/stripe.ndjson");
  for (size_t at = 0; (at = ndjson.find("\"charge\"", at)) != std::string::npos; at += 30)
    ndjson.insert(at, "\"refund\":{\"reason\":null},");
  write_file(dir / "pay/stripe.ndjson", ndjson);
  auto r = run_seam(dir.path(), "check pay --data");
  CHECK(r.exit == 0);
  INFO(r.out, r.err);
  CHECK(r.out.find("pay/stack.lua:11: warning: field 'reason' of system 'stripe': column path 'refund.reason' is null "
                   "on all 3 sampled rows\n") != std::string::npos);
  CHECK(run_seam(dir.path(), "check pay --data --strict").exit == 1);
}

TEST_CASE("e2e check --data: what the sample holds, and the value maps that do not cover it") {
  TempDir dir;
  write_pay(dir);
  auto r = run_seam(dir.path(), "check pay --data");
  CHECK(r.exit == 0);
  CHECK(r.err == "");
  CHECK(r.out ==
        "sample of shop: all 3 rows of pay/shop.csv (3 accepted, 0 rejected)\n"
        "  amount: currencies USD (3)\n"
        "  status: 'paid' (2), 'refunded' (1)\n"
        "sample of stripe: all 3 rows of pay/stripe.ndjson (3 accepted, 0 rejected)\n"
        "  amount: currencies USD (3)\n"
        "  status: column 'charge.status' holds 'partially_refunded' (2), 'succeeded' (1)\n"
        "  status: 'partially_refunded' (2), 'paid' (1)\n"
        "pay/stack.lua:17: warning: field 'status' of system 'stripe': map_values does not map 'partially_refunded' "
        "(seen 2 times in the sample) and has no default: it keeps its text\n"
        "pay/stack.lua:24: warning: value_map 'status matches' does not map 'refunded' (shop status, seen once in the "
        "sample)\n"
        "pay/stack.lua:24: warning: value_map 'status matches' maps nothing to 'partially_refunded' (stripe status, seen "
        "2 times in the sample)\n"
        "stack pay is valid: 0 params, 2 systems, 1 reconciliation, 3 rules; 3 warnings\n");
  CHECK(run_seam(dir.path(), "check pay --data --strict").exit == 1);

  // --sample N reads the first N rows only: the third row's status is not seen.
  auto two = run_seam(dir.path(), "check pay --data --sample 2");
  CHECK(two.exit == 0);
  CHECK(two.out.find("sample of shop: the first 2 rows of pay/shop.csv (2 accepted, 0 rejected)\n"
                     "  amount: currencies USD (2)\n"
                     "  status: 'paid' (1), 'refunded' (1)\n") == 0);
  CHECK(two.out.find("'partially_refunded' (1), 'succeeded' (1)\n") != std::string::npos);
}

TEST_CASE("e2e check --data: units seen, rejected rows counted, and every sampled row rejected is an error") {
  TempDir dir;
  write_file(dir / "inv/stack.lua", R"(stack "inv"
units { base = "each", case = 6 }
system "erp" { source = csv { path = "erp.csv" }, id = "sku",
               fields = { sku = "SKU", on_hand = quantity { column = "On Hand", unit_column = "UoM" } } }
system "wms" { source = csv { path = "wms.csv" }, id = "sku",
               fields = { sku = "SKU", on_hand = quantity { column = "Qty", unit = "case" } } }
reconcile "stock" { left = "erp", right = "wms", match = { left = "sku", right = "sku" },
                    rules = { quantity_equal { field = "on_hand" } } }
)");
  write_file(dir / "inv/erp.csv", "SKU,On Hand,UoM\nS1,2,case\nS2,5,each\nS3,1,crate\n");
  write_file(dir / "inv/wms.csv", "SKU,Qty\nS1,two\nS2,five\n");
  auto r = run_seam(dir.path(), "check inv --data");
  CHECK(r.exit == 2);
  // The reasons are the mapper's own words; only where they sit is asserted here.
  const auto out = lines_of(r.out);
  REQUIRE(out.size() == 5);
  CHECK(out[0] == "sample of erp: all 3 rows of inv/erp.csv (2 accepted, 1 rejected)");
  CHECK(out[1] == "  on_hand: units case (1), crate (1), each (1)");
  CHECK(out[2].rfind("  rejected 1 row; the first, inv/erp.csv:4: no conversion from unit 'crate' to each", 0) == 0);
  CHECK(out[3] == "sample of wms: all 2 rows of inv/wms.csv (0 accepted, 2 rejected)");
  CHECK(out[4].rfind("  rejected 2 rows; the first, inv/wms.csv:2: cannot read 'two' as a quantity", 0) == 0);
  const auto err = lines_of(r.err);
  REQUIRE(err.size() == 2);
  CHECK(err[0].rfind("inv/stack.lua:5: error: system 'wms': every sampled row is rejected (2 rows); the first, "
                     "inv/wms.csv:2: cannot read 'two' as a quantity",
                     0) == 0);
  CHECK(err[1] == "seam: error: stack inv cannot work on its inputs: 1 error in the sample");
  // Fixed, the same sample checks clean (a rejected row is the data's problem, not the stack's).
  write_file(dir / "inv/wms.csv", "SKU,Qty\nS1,2\nS2,5\n");
  auto fixed = run_seam(dir.path(), "check inv --data");
  CHECK(fixed.exit == 0);
  CHECK(fixed.err == "");
  CHECK(lines_of(fixed.out).back() == "stack inv is valid: 0 params, 2 systems, 1 reconciliation, 2 rules");
}

TEST_CASE("e2e check: declarations that cannot work at run time are refused at file:line") {
  TempDir dir;
  write_file(dir / "c/a.csv", "id,amt,at,n,txt\nA,1.00,2026-01-01T00:00:00Z,3,x\n");
  write_file(dir / "c/b.csv", "id,amt,at,n,txt\nA,1.00,2026-01-01T00:00:00Z,3,x\n");
  auto stack = [](const std::string& rule, const std::string& right_currency = "USD", const std::string& extra = "") {
    return "stack \"c\"\n"
           "param(\"neg\", { type = \"money\", default = \"-0.01\" })\n"
           "system \"a\" { source = csv { path = \"a.csv\" }, id = \"id\", fields = { id = \"id\", amt = money { "
           "column = \"amt\", currency = \"USD\" }, at = time { column = \"at\" }, n = integer { column = \"n\" }, "
           "txt = \"txt\"" + extra + " } }\n"
           "system \"b\" { source = csv { path = \"b.csv\" }, id = \"id\", fields = { id = \"id\", amt = money { "
           "column = \"amt\", currency = \"" + right_currency + "\" }, at = time { column = \"at\" }, n = integer { "
           "column = \"n\" }, txt = \"txt\" } }\n"
           "reconcile \"r\" {\n"
           "  left = \"a\", right = \"b\", match = { left = \"id\", right = \"id\" },\n"
           "  rules = { " + rule + " },\n"
           "}\n";
  };
  struct Case {
    std::string stack, message;
  };
  const std::vector<Case> cases = {
      // caught before this change, kept refused
      {stack("amount_equal { field = \"txt\" }"),
       "c/stack.lua:7: rule 'txt equal' needs field 'txt' of system 'a' to be declared as money { ... } (declared at "
       "c/stack.lua:3)"},
      {stack("within { left = \"txt\", right = \"at\", minutes = 5 }"),
       "c/stack.lua:7: rule 'lag txt -> at' needs field 'txt' of system 'a' to be declared as time { ... } (declared "
       "at c/stack.lua:3)"},
      {stack("ledger_equal { amount = \"amt\" }"),
       "c/stack.lua:7: ledger_equal { left_time = ... } (or time = ...) expects a non-empty string, found nil"},
      {stack("ledger_equal { amount = \"amt\", time = \"txt\" }"),
       "c/stack.lua:7: rule 'ledgers agree' needs field 'txt' of system 'a' to be declared as time { ... } (declared "
       "at c/stack.lua:3)"},
      {stack("quantity_equal { field = \"amt\" }"),
       "c/stack.lua:7: rule 'amt equal' needs field 'amt' of system 'a' to be declared as integer { ... } or quantity "
       "{ ... } (declared at c/stack.lua:3)"},
      {stack("exists_in { \"right\", grace_minutes = 5 }"),
       "c/stack.lua:7: rule 'exists in right' has grace_minutes but no since field (the a time the lag window starts "
       "from)"},
      // refused since this change
      {stack("present { \"right.txt\" }", "USD", ", ref = extract { column = \"txt\", regex = \"(R[0-9]+\" }"),
       "c/stack.lua:3: field 'ref' of system 'a': invalid regex '(R[0-9]+' at offset 8: missing closing parenthesis"},
      {stack("amount_equal { field = \"amt\" }", "EUR"),
       "c/stack.lua:7: rule 'amt equal' compares a amt, always in USD (c/stack.lua:3), with b amt, always in EUR "
       "(c/stack.lua:4): amounts in different currencies never match, so every group would fail"},
      {stack("ledger_equal { amount = \"amt\", time = \"at\" }", "EUR"),
       "c/stack.lua:7: rule 'ledgers agree' compares a amt, always in USD (c/stack.lua:3), with b amt, always in EUR "
       "(c/stack.lua:4): amounts in different currencies never match, so every group would fail"},
      {stack("amount_equal { field = \"amt\", tolerance = \"-1\" }"),
       "c/stack.lua:7: rule 'amt equal' has tolerance -1: no difference is within a negative tolerance, so every "
       "group would fail; use 0 for exact amounts"},
      {stack("amount_equal { field = \"amt\", tolerance_pct = param \"neg\" }"),
       "c/stack.lua:7: rule 'amt equal' has tolerance_pct -0.01 (param 'neg'): no difference is within a negative "
       "tolerance, so every group would fail; use 0 for exact amounts"},
      {stack("quantity_equal { field = \"n\", tolerance = -2 }"),
       "c/stack.lua:7: rule 'n equal' has tolerance -2: no difference is within a negative tolerance, so every group "
       "would fail; use 0 for exact counts"},
      {stack("ledger_equal { amount = \"amt\", time = \"at\", window_minutes = -5 }"),
       "c/stack.lua:7: rule 'ledgers agree' has window_minutes -5: no two entries are a negative number of minutes "
       "apart, so none would pair; use 0 for entries at the same time"},
      {stack("ledger_equal { amount = \"amt\", time = \"at\", entry = \"n\" }"),
       "c/stack.lua:7: rule 'ledgers agree' pairs entries by left_entry 'n', which system 'a' declares as integer { "
       "... } (c/stack.lua:3): entry ids are text, so no entry would have one; map the column as text (\"n\")"},
      {stack("value_map { field = \"txt\", map = {} }"),
       "c/stack.lua:7: rule 'txt mapped' has an empty map: every a txt would fail as unmapped; list each value and "
       "what it becomes in b (map = { succeeded = \"Refunded\" }), or compare with equal { ... }"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    write_file(dir / "c/stack.lua", c.stack);
    auto check = run_seam(dir.path(), "check c");
    CHECK(check.exit == 2);
    CHECK(check.err == "seam: error: " + c.message + "\n");
    auto run = run_seam(dir.path(), "run c");  // refused before anything is read or written
    CHECK(run.exit == 2);
    CHECK(run.err == "seam: error: " + c.message + "\n");
    CHECK(!std::filesystem::exists(dir / "c/seam.db"));
  }
  // The same declarations with workable values check clean.
  write_file(dir / "c/stack.lua", stack("amount_equal { field = \"amt\", tolerance = \"0\" }, "
                                        "ledger_equal { amount = \"amt\", time = \"at\", entry = \"txt\", "
                                        "window_minutes = 0 }"));
  auto ok = run_seam(dir.path(), "check c");
  CHECK(ok.err == "");
  CHECK(ok.out == "c/stack.lua:2: warning: param 'neg' is declared but nothing reads it\n"
                  "stack c is valid: 1 param, 2 systems, 1 reconciliation, 3 rules; 1 warning\n");
}

TEST_CASE("e2e check: params read by match strategies are not reported unused") {
  TempDir dir;
  copy_example("bank", dir / "bank");
  auto r = run_seam(dir.path(), "check bank");
  CHECK(r.exit == 0);
  CHECK(r.out == "stack acme-retail-cash is valid: 2 params, 3 systems, 2 reconciliations, 6 rules\n");
}

TEST_CASE("e2e run --profile: one line per system and rule, then write and seal, and the audit log is unchanged") {
  TempDir dir;
  copy_example("refunds", dir / "refunds");
  auto profiled = run_seam(dir.path(), "run refunds --profile", "SEAM_NOW=2026-03-31T18:00:00Z");
  CHECK(profiled.exit == 1);
  std::string names;
  const std::regex map_line(R"(profile: map (\w+): \d+\.\d{3} ms wall, (\d+) rows, \d+ rows/s)");
  const std::regex match_line(R"(profile: match (\w+): \d+\.\d{3} ms)");
  const std::regex rule_line(R"(profile: rule (\w+) / (.+): \d+\.\d{3} ms, (\d+) calls?, \d+\.\d{2} µs/call)");
  const std::regex phase_line(R"(profile: (write|seal): \d+\.\d{3} ms)");
  for (const auto& line : lines_of(profiled.err)) {
    std::smatch m;
    if (std::regex_match(line, m, map_line)) names += "map " + m[1].str() + " " + m[2].str() + "\n";
    else if (std::regex_match(line, m, match_line)) names += "match " + m[1].str() + "\n";
    else if (std::regex_match(line, m, rule_line)) names += "rule " + m[1].str() + " / " + m[2].str() + " " + m[3].str() + "\n";
    else if (std::regex_match(line, m, phase_line)) names += m[1].str() + "\n";
    else names += "UNEXPECTED " + line + "\n";
  }
  CHECK(names ==
        "map storefront 19\n"
        "map erp 22\n"  // the saved search's 3 title and 3 total rows are read too
        "map processor 18\n"
        "match refunds_reach_erp\n"
        "match order_refund_totals\n"
        "match refunds_reach_processor\n"
        "rule refunds_reach_erp / exists in right 19\n"
        "rule refunds_reach_erp / exists in left 19\n"
        "rule refunds_reach_erp / amount equal 19\n"
        "rule refunds_reach_erp / status mapped 19\n"
        "rule refunds_reach_erp / lag at -> posted_at 19\n"
        "rule refunds_reach_erp / posted once 19\n"
        "rule refunds_reach_erp / reason code kept 19\n"
        "rule refunds_reach_erp / same accounting month 19\n"
        "rule refunds_reach_erp / cardinality 19\n"
        "rule order_refund_totals / order refunds add up 16\n"
        "rule order_refund_totals / each partial refund posted 16\n"
        "rule refunds_reach_processor / exists in right 18\n"
        "rule refunds_reach_processor / exists in left 18\n"
        "rule refunds_reach_processor / amount equal 18\n"
        "rule refunds_reach_processor / status mapped 18\n"
        "rule refunds_reach_processor / lag at -> created 18\n"
        "rule refunds_reach_processor / cardinality 18\n"
        "write\n"
        "seal\n");

  // The same run without --profile writes the same log, to the seal, and prints the same.
  std::filesystem::remove(dir / "refunds/seam.db");
  auto plain = run_seam(dir.path(), "run refunds", "SEAM_NOW=2026-03-31T18:00:00Z");
  CHECK(plain.exit == 1);
  CHECK(plain.err == "");
  CHECK(plain.out == profiled.out);
}

TEST_CASE("e2e check --data: the source's own skips (title and total rows) are skipped in the sample as in a run") {
  TempDir dir;
  copy_example("refunds", dir / "refunds");
  auto r = run_seam(dir.path(), "check refunds --data");
  CHECK(r.exit == 0);
  CHECK(r.out.find("sample of erp: all 22 rows of refunds/data/erp_customer_refunds.csv (15 accepted, 1 rejected, 6 "
                   "skipped)\n") != std::string::npos);
}
