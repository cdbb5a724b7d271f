#include <doctest/doctest.h>

#include "bindings/stack_loader.hpp"
#include "engine/spec/params.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

const char* kValid = R"(stack "shop"
param("lag_minutes", { type = "integer", default = 15, min = 0, max = 600, doc = "lag" })
param("tolerance", { type = "money", default = "0.00" })
system "a" {
  source = csv { path = "a.csv" },
  id = "id",
  fields = {
    id = "Refund ID",
    amount = money { column = "Amount", currency = "USD" },
    at = time { column = "At", format = "iso8601" },
  },
}
system "b" {
  source = ndjson { path = "b.ndjson" },
  id = "id",
  fields = { id = "ref", amount = money { column = "total", currency = "USD" }, at = time { column = "when" } },
}
reconcile "r" {
  left = "a", right = "b",
  match = { left = "id", right = "id", cardinality = "one_to_one" },
  rules = {
    exists_in "right",
    amount_equal { field = "amount", tolerance = param "tolerance" },
    within { left = "at", right = "at", minutes = param "lag_minutes" },
  },
}
)";

// The error `check` reports for kValid with line `line` replaced by `text`.
std::string check_error(int line, const std::string& text, std::vector<std::pair<std::string, std::string>> sets = {}) {
  std::string stack = kValid;
  size_t start = 0;
  for (int i = 1; i < line; ++i) start = stack.find('\n', start) + 1;
  size_t end = stack.find('\n', start);
  stack.replace(start, end - start, text);
  TempDir dir;
  write_file(dir / "stack.lua", stack);
  try {
    check_stack(dir.path(), sets);
  } catch (const UserError& e) {
    return seam::test::with_dir_as_DIR(e.what(), dir.path());
  }
  return "(valid)";
}

}  // namespace

TEST_CASE("dsl: accounting_zone names the books' zone, checked, and same_period rules default to it") {
  CHECK(check_error(1, "stack \"shop\"; accounting_zone \"America/New_York\"") == "(valid)");
  CHECK(check_error(1, "stack \"shop\"; accounting_zone \"Mars/Base\"") ==
        "DIR/stack.lua:1: accounting_zone: unknown time zone 'Mars/Base' (an IANA name such as America/New_York, or UTC)");
  CHECK(check_error(1, "stack \"shop\"; accounting_zone \"UTC\"; accounting_zone \"UTC\"") ==
        "DIR/stack.lua:1: accounting_zone is declared twice (first at DIR/stack.lua:1)");
  TempDir dir;
  std::string stack = kValid;
  stack.replace(0, std::string("stack \"shop\"").size(), "stack \"shop\"; accounting_zone \"America/New_York\"");
  stack.replace(stack.find("    within {"), 0,
                "    same_month { left = \"at\", right = \"at\" },\n"
                "    same_month { left = \"at\", right = \"at\", zone = \"Europe/Paris\", name = \"paris\" },\n");
  write_file(dir / "stack.lua", stack);
  LoadedStack s = load_stack(dir.path());
  CHECK(s.spec.accounting_zone == "America/New_York");
  CHECK(s.spec.reconciles[0].rules[2].zone == "America/New_York");  // none of its own: the books'
  CHECK(s.spec.reconciles[0].rules[3].zone == "Europe/Paris");      // its own
}

TEST_CASE("dsl: a valid stack becomes plain declarations with locations") {
  TempDir dir;
  write_file(dir / "stack.lua", kValid);
  LoadedStack s = load_stack(dir.path());
  CHECK(s.spec.name == "shop");
  REQUIRE(s.spec.params.size() == 2);
  CHECK(s.spec.params[0].type == ParamType::Integer);
  CHECK(s.spec.params[0].max->units == 600);
  REQUIRE(s.spec.systems.size() == 2);
  CHECK(s.spec.systems[0].fields.size() == 3);
  CHECK(s.spec.systems[0].fields[0].name == "amount");  // sorted: Lua tables keep no order
  CHECK(s.spec.systems[0].source.path == dir / "a.csv");
  // The declared rules, then the check seam adds for the declared cardinality (one_to_one).
  REQUIRE(s.spec.reconciles[0].rules.size() == 4);
  CHECK(s.spec.reconciles[0].rules[3].kind == RuleKind::Cardinality);
  CHECK(s.spec.reconciles[0].rules[3].limit_left);
  CHECK(s.spec.reconciles[0].rules[3].limit_right);
  const RuleSpec& within = s.spec.reconciles[0].rules[2];
  CHECK(within.name == "lag at -> at");
  CHECK(within.loc.str() == dir / "stack.lua:24");
  CHECK(within.minutes.param == "lag_minutes");
  CHECK(within.version.size() == 16);
  CHECK(s.spec.digest.size() == 64);
  CHECK(check_error(1, "stack \"shop\"") == "(valid)");
}

TEST_CASE("dsl: a rule's version changes with its definition, not with unrelated edits") {
  TempDir a, b;
  write_file(a / "stack.lua", kValid);
  std::string changed = kValid;
  changed.replace(changed.find("minutes = param \"lag_minutes\""), 29, "minutes = 45");
  write_file(b / "stack.lua", "-- a comment shifts nothing\n" + changed);
  LoadedStack x = load_stack(a.path()), y = load_stack(b.path());
  CHECK(x.spec.reconciles[0].rules[1].version == y.spec.reconciles[0].rules[1].version);
  CHECK(x.spec.reconciles[0].rules[2].version != y.spec.reconciles[0].rules[2].version);
  CHECK(x.spec.digest != y.spec.digest);
}

TEST_CASE("dsl: syntax and usage errors point at file:line") {
  CHECK(check_error(9, "    amount = money { column = \"Amount\" currency = \"USD\" },") ==
        "DIR/stack.lua:9: '}' expected near 'currency'\n"
        "  hint: a missing comma between table entries, or an unclosed { or ( on this line or the one before, is the usual cause");
  CHECK(check_error(9, "    amount = money { colum = \"Amount\" },") ==
        "DIR/stack.lua:9: money { ... } has no option 'colum' (options: column, columns, null_if, default, required, currency, "
        "currency_column, decimal, minor_units, credit_sign, dash, debit, credit, column_by, negate, abs)");
  CHECK(check_error(23, "    amount_eqal { field = \"amount\" },") ==
        "DIR/stack.lua:23: unknown name 'amount_eqal' (did you mean 'amount_equal'?)");
  CHECK(check_error(23, "    exists_in \"right\",") ==
        "DIR/stack.lua:23: rule name 'exists in right' is used twice in reconcile \"r\" (first at DIR/stack.lua:22); give one a name = \"...\"");
  CHECK(check_error(1, "stack \"shop\" system \"c\"") == "DIR/stack.lua:1: system c has no { ... } body");
  CHECK(check_error(19, "  left = \"a\", right = \"c\",") ==
        "DIR/stack.lua:18: reconcile 'r' names system 'c', which is not declared");
  CHECK(check_error(20, "  match = { left = \"ids\", right = \"id\", cardinality = \"one_to_one\" },") ==
        "DIR/stack.lua:18: reconcile 'r' matches on left field 'ids', which system 'a' does not declare (did you mean 'id'?)");
  CHECK(check_error(20, "  match = { left = \"id\", right = \"id\", cardinality = \"1:1\" },") ==
        "DIR/stack.lua:18: reconcile \"r\": cardinality must be one_to_one, one_to_many, many_to_one or many_to_many, found '1:1'");
  CHECK(check_error(24, "    within { left = \"at\", right = \"amount\", minutes = 5 },") ==
        "DIR/stack.lua:24: rule 'lag at -> amount' needs field 'amount' of system 'b' to be declared as time { ... } (declared at DIR/stack.lua:16)");
  CHECK(check_error(24, "    within { left = \"at\", right = \"at\", minutes = param \"lag\" },") ==
        "DIR/stack.lua:24: param 'lag' is not declared (declare it with param(\"lag\", {...}))");
  CHECK(check_error(10, "    at = time { column = \"At\", zone = \"Europe/Nowhere\" },") ==
        "DIR/stack.lua:10: field 'at' of system 'a': unknown time zone 'Europe/Nowhere' (expected an IANA name such as America/New_York)");
  CHECK(check_error(6, "  id = \"refund\",") == "DIR/stack.lua:4: system 'a' has id = 'refund', which is not one of its fields");
  CHECK(check_error(5, "  source = xml { path = \"a.xml\" },") == "DIR/stack.lua:5: unknown name 'xml'");
  CHECK(check_error(5, "  source = csv { path = \"a.csv\", delimeter = \";\" },") ==
        "DIR/stack.lua:5: csv { ... } has no option 'delimeter' (options: path, delimiter, allow_empty, header_row, header_contains, skip_rows, encoding)");
}

TEST_CASE("dsl: record_time, amount and alert declarations, and their mistakes at file:line") {
  CHECK(check_error(6, "  id = \"id\", record_time = \"at\", amount = \"amount\",") == "(valid)");
  CHECK(check_error(6, "  id = \"id\", record_time = \"att\",") ==
        "DIR/stack.lua:4: system 'a' record_time names field 'att', which system 'a' does not declare (did you mean 'at'?)");
  CHECK(check_error(6, "  id = \"id\", record_time = \"amount\",") ==
        "DIR/stack.lua:4: system 'a' record_time field 'amount' must be declared as time { ... }");
  CHECK(check_error(6, "  id = \"id\", amount = \"at\",") ==
        "DIR/stack.lua:4: system 'a' amount field 'at' must be declared as money { ... }");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = webhook { url = \"http://127.0.0.1:9/h\" }, attempts = 5 }") ==
        "(valid)");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = webhook { url = \"ftp://h\" } }") ==
        "DIR/stack.lua:1: webhook url must start with http:// or https://, found 'ftp://h'");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = \"ops@example.com\" }") ==
        "DIR/stack.lua:1: alert \"x\" needs to = ndjson_file { path = ... }, command { ... } or webhook { url = ... }");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = command { \"true\" }, min_severity = \"urgent\" }") ==
        "DIR/stack.lua:1: alert 'x' has min_severity 'urgent' (expected info, low, medium, high or critical)");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = command { \"true\" }, attempts = 0 }") ==
        "DIR/stack.lua:1: alert \"x\" attempts must be a whole number of tries from 1 to 20, found 0");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = command {} }") ==
        "DIR/stack.lua:1: command expects the program and its arguments: command { \"/usr/bin/prog\", \"--flag\" }");
  CHECK(check_error(1, "stack \"shop\" alert \"x\" { to = ndjson_file { path = \"a\" }, retries = 2 }") ==
        "DIR/stack.lua:1: alert \"x\" has no option 'retries' (options: to, min_severity, attempts, backoff_ms, timeout_seconds, doc)");
}

TEST_CASE("params: defaults, overrides, and every validation error") {
  CHECK(check_error(2, "param(\"lag_minutes\", { type = \"integer\", default = 15.5 })") ==
        "DIR/stack.lua:2: default of param 'lag_minutes' expects a whole number, found '15.5'");
  CHECK(check_error(2, "param(\"lag_minutes\", { type = \"integer\", default = 5, min = 10 })") ==
        "DIR/stack.lua:2: default of param 'lag_minutes' must be at least 10, found 5");
  CHECK(check_error(2, "param(\"lag_minutes\", { type = \"duration\", default = 5 })") ==
        "DIR/stack.lua:2: param 'lag_minutes' has unknown type 'duration' (integer, number, money, text, boolean)");
  CHECK(check_error(2, "param(\"lag_minutes\", { default = 5 }) param(\"lag_minutes\", { default = 6 })") ==
        "DIR/stack.lua:2: param 'lag_minutes' is declared twice (first at DIR/stack.lua:2)");
  CHECK(check_error(1, "stack \"shop\"", {{"lag_minutes", "45"}}) == "(valid)");
  CHECK(check_error(1, "stack \"shop\"", {{"lag_minuts", "45"}}) ==
        "--set lag_minuts=45: the stack declares no param 'lag_minuts' (did you mean 'lag_minutes'?)");
  CHECK(check_error(1, "stack \"shop\"", {{"lag_minutes", "-1"}}) ==
        "--set lag_minutes=-1: param 'lag_minutes' must be at least 0, found -1 (declared at DIR/stack.lua:2)");
  CHECK(check_error(1, "stack \"shop\"", {{"lag_minutes", "soon"}}) ==
        "--set lag_minutes=soon: param 'lag_minutes' expects a whole number, found 'soon' (declared at DIR/stack.lua:2)");
  CHECK(check_error(1, "stack \"shop\"", {{"lag_minutes", "601"}}) ==
        "--set lag_minutes=601: param 'lag_minutes' must be at most 600, found 601 (declared at DIR/stack.lua:2)");
}

TEST_CASE("dsl: one reconcile around a system of record becomes one per right system") {
  TempDir dir;
  auto stack = [&](const std::string& reconcile) {
    write_file(dir / "stack.lua", std::string(R"(stack "s"
system "erp" { source = csv { path = "e.csv" }, id = "sku", fields = { sku = "SKU", n = integer { column = "N" } } }
system "wms" { source = csv { path = "w.csv" }, id = "sku", fields = { sku = "SKU", n = integer { column = "N" } } }
system "web" { source = csv { path = "s.csv" }, id = "handle", fields = { handle = "H", code = "SKU", n = integer { column = "N" } } }
)") + reconcile);
    try {
      LoadedStack loaded = load_stack(dir.path());
      std::string out;
      for (const auto& r : loaded.spec.reconciles)
        out += r.name + ":" + r.left + ">" + r.right + ":" + r.system_of_record + ":" + r.right_key[0] + ":" +
               std::to_string(r.rules.size()) + ";";
      return out;
    } catch (const UserError& e) {
      return seam::test::with_dir_as_DIR(e.what(), dir.path());
    }
  };
  CHECK(stack("reconcile \"stock\" { left = \"erp\", right = { \"wms\", \"web\" },\n"
              "  match = { left = \"sku\", right = { wms = \"sku\", web = \"code\" } },\n"
              "  rules = { quantity_equal { field = \"n\" } } }\n") ==
        "stock/wms:erp>wms:erp:sku:2;stock/web:erp>web:erp:code:2;");
  CHECK(stack("reconcile \"stock\" { left = \"erp\", right = { \"wms\", \"web\" }, system_of_record = \"wms\",\n"
              "  match = { left = \"sku\", right = \"sku\" }, rules = {} }\n") ==
        "DIR/stack.lua:5: reconcile \"stock\": with several right systems the system of record is the left one, "
        "\"erp\"; found \"wms\"");
  CHECK(stack("reconcile \"stock\" { left = \"erp\", right = { \"wms\", \"web\" },\n"
              "  match = { left = \"sku\", right = { wms = \"sku\" } }, rules = {} }\n") ==
        "DIR/stack.lua:5: reconcile \"stock\" match.right names no key for system \"web\"");
}

TEST_CASE("dsl: a source's table options reach its connector as JSON text") {
  TempDir dir;
  std::string stack = kValid;
  stack.replace(stack.find("source = csv { path = \"a.csv\" }"), 31,
                "source = csv { path = \"a.csv\", header_contains = { \"Date\", \"Say \\\"hi\\\"\" },\n"
                "                 skip_rows = { { column = \"Name\", starts_with = \"Total\" }, { column = \"D\", empty = true } } }");
  write_file(dir / "stack.lua", stack);
  LoadedStack s = load_stack(dir.path());
  const auto& options = s.spec.systems[0].source.options;
  CHECK(options.at("header_contains") == "[\"Date\",\"Say \\u0022hi\\u0022\"]");
  CHECK(options.at("skip_rows") == "[{\"column\":\"Name\",\"starts_with\":\"Total\"},{\"column\":\"D\",\"empty\":true}]");
  CHECK(check_error(5, "  source = csv { path = \"a.csv\", skip_rows = { { column = print } } },") ==
        "DIR/stack.lua:5: csv { skip_rows = ... } expects text, a number, true/false or a table, found function");
  CHECK(check_error(5, "  source = csv { path = \"a.csv\", header_contains = { \"Date\", x = 1 } },") ==
        "DIR/stack.lua:5: csv { header_contains = ... } mixes a list with named options");
}
