// Values are exact or refused (issue 11): money and quantity sums never wrap, sign
// notations are read strictly, ids are never blank, id lists are unambiguous, and any
// bytes a client sends are stored, hashed, read back and printed consistently.
#include <doctest/doctest.h>

#include <limits>
#include <map>

#include "connectors/connector.hpp"
#include "engine/audit/audit_log.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/audit/schema.hpp"
#include "engine/audit/verify.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/match/matcher.hpp"
#include "engine/report/html.hpp"
#include "engine/report/table.hpp"
#include "engine/report/trace.hpp"
#include "engine/report/totals.hpp"
#include "engine/report/variance.hpp"
#include "engine/rules/builtin.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t k2p62 = int64_t{1} << 62;  // two of these are 2^63: one past INT64_MAX
const std::string kRange = "the int64 range of minor units (-9223372036854775808 to 9223372036854775807)";
const std::string kBaseRange = "the int64 range of base units (-9223372036854775808 to 9223372036854775807)";

constexpr TimeUs kT0 = 1'773'483'720LL * kMicrosPerSecond;  // 2026-03-14T10:22:00Z

SystemSpec make_system(const std::string& name) {
  SystemSpec s;
  s.name = name;
  s.id_field = "id";
  auto field = [](const char* n, FieldKind k) {
    FieldSpec f;
    f.name = n;
    f.kind = k;
    return f;
  };
  s.fields = {field("amount", FieldKind::Money), field("at", FieldKind::Time), field("id", FieldKind::Column),
              field("key", FieldKind::Column), field("qty", FieldKind::Quantity)};
  return s;
}

// Two systems and one rule; the verdict per group key.
class Fixture {
 public:
  Fixture() : left_sys(make_system("shop")), right_sys(make_system("erp")), left(left_sys), right(right_sys) {
    rec.name = "r";
    rec.left = "shop";
    rec.right = "erp";
    rec.left_key = {"key"};
    rec.right_key = {"key"};
  }
  // `amount` in minor units of USD, `qty` in base units, `minutes` after kT0.
  void add(RecordSet& rs, const char* id, const char* key, int64_t amount, int64_t qty = 0, int64_t minutes = 0) {
    Value* v = rs.begin_record();
    v[0] = Value::of_money(amount, pack_currency("USD"));
    v[1] = Value::of_time(kT0 + minutes * kMicrosPerMinute);
    v[2] = Value::of_text(id);
    v[3] = Value::of_text(key);
    v[4] = Value::of_int(qty);
    rs.commit_record(rs.size() + 2, id);
  }
  std::map<std::string, Verdict> run(RuleSpec rule) {
    rule.loc = {"stack.lua", 10};
    rec.rules = {rule};
    StackSpec stack;
    ParamValues params = ParamValues::resolve(stack, {});
    auto compiled = compile_rule(rec.rules[0], rec, left_sys, right_sys, params);
    MatchResult m = match(left, {3}, right, {3});
    RuleContext ctx{&rec, &left, &right, &m, nullptr, nullptr, kT0 + 1000 * kMicrosPerMinute};
    compiled->prepare(ctx);
    std::map<std::string, Verdict> out;
    for (const auto& g : m.groups) evaluate_rule(*compiled, g, ctx, out[std::string(g.key)]);
    return out;
  }

  SystemSpec left_sys, right_sys;
  RecordSet left, right;
  ReconcileSpec rec;
};

RuleSpec rule_of(RuleKind k, const char* field) {
  RuleSpec r;
  r.kind = k;
  r.name = rule_kind_name(k);
  r.left_field = r.right_field = field;
  return r;
}

int64_t minor(const char* text) {
  auto r = parse_amount(text, 2, {});
  if (!r.ok()) FAIL(r.error());
  return r->minor;
}
std::string refusal(const char* text) {
  auto r = parse_amount(text, 2, {});
  REQUIRE_FALSE(r.ok());
  return r.error();
}

std::string text_of(Db& db, const std::string& sql) {
  Statement s(db, sql);
  REQUIRE(s.step());
  return s.text_at(0);
}

std::string escaped(std::string_view s) {
  std::string out;
  json_escape_to(out, s);
  return out;
}

}  // namespace

// ---- checked arithmetic ----------------------------------------------------------------

TEST_CASE("exact values: checked helpers refuse results beyond int64") {
  int64_t out = 0;
  CHECK(checked_add(kMax - 1, 1, out));
  CHECK(out == kMax);
  CHECK_FALSE(checked_add(kMax, 1, out));
  CHECK_FALSE(checked_add(kMin, -1, out));
  CHECK_FALSE(checked_sub(kMax, -1, out));
  CHECK_FALSE(checked_neg(kMin, out));
  CHECK_FALSE(checked_abs(kMin, out));
  CHECK(checked_abs(kMin + 1, out));
  CHECK(out == kMax);
  int64_t acc = k2p62;
  CHECK_FALSE(checked_accumulate(acc, k2p62));
  CHECK(acc == k2p62);  // unchanged after a refused step
}

TEST_CASE("exact values: a decimal scaled beyond int64 saturates instead of wrapping") {
  Decimal big{kMax / 10, 0};
  CHECK(big.to_scale(1) == kMax - 7);
  CHECK(big.to_scale(2) == kMax);
  CHECK(Decimal{-(kMax / 10), 0}.to_scale(3) == kMin);
  CHECK(Decimal{5, 3}.to_scale(2) == 0);  // toward zero, as before
}

TEST_CASE("exact values: an amount_equal sum beyond int64 is an error verdict naming the records, not a pass") {
  Fixture f;
  // 2^62 + 2^62 wraps to INT64_MIN, which the erp record holds: wrapped, the sums agree.
  f.add(f.left, "S1", "K1", k2p62);
  f.add(f.left, "S2", "K1", k2p62);
  f.add(f.right, "E1", "K1", kMin);
  f.rec.cardinality = Cardinality::ManyToOne;
  auto v = f.run(rule_of(RuleKind::AmountEqual, "amount"));
  CHECK(v["K1"].outcome == Outcome::Error);
  CHECK(v["K1"].message == "the sum of amount over shop S1, S2 exceeds " + kRange + "; check these records' values");
  CHECK(v["K1"].actual == "overflow");
}

TEST_CASE("exact values: an amount_equal difference beyond int64 is an error verdict naming both sides") {
  Fixture f;
  f.add(f.left, "S1", "K1", kMin + 5);
  f.add(f.right, "E1", "K1", kMax - 5);
  auto v = f.run(rule_of(RuleKind::AmountEqual, "amount"));
  CHECK(v["K1"].outcome == Outcome::Error);
  CHECK(v["K1"].message == "the difference (right - left) between the amounts of shop S1 and erp E1 exceeds " + kRange +
                               "; check these records' values");
}

TEST_CASE("exact values: amount_equal on INT64_MIN itself compares exactly") {
  Fixture f;
  f.add(f.left, "S1", "K1", kMin);
  f.add(f.right, "E1", "K1", kMin);
  f.add(f.left, "S2", "K2", kMin);
  f.add(f.right, "E2", "K2", kMin + 1);
  auto v = f.run(rule_of(RuleKind::AmountEqual, "amount"));
  CHECK(v["K1"].outcome == Outcome::Pass);
  CHECK(v["K2"].outcome == Outcome::Fail);
  CHECK(v["K2"].delta == "0.01 USD");
}

TEST_CASE("exact values: a quantity_equal sum beyond int64 is an error verdict naming the records") {
  Fixture f;
  f.add(f.left, "ERP-1", "SKU-1", 0, kMin);
  f.add(f.right, "WMS-1a", "SKU-1", 0, k2p62);
  f.add(f.right, "WMS-1b", "SKU-1", 0, k2p62);
  f.add(f.left, "ERP-2", "SKU-2", 0, kMin);
  f.add(f.right, "WMS-2", "SKU-2", 0, 1);
  RuleSpec r = rule_of(RuleKind::QuantityEqual, "qty");
  r.sum_right = true;
  auto v = f.run(r);
  CHECK(v["SKU-1"].outcome == Outcome::Error);
  CHECK(v["SKU-1"].message == "the sum of qty over erp WMS-1a, WMS-1b exceeds " + kBaseRange +
                                  "; check these records' values");
  CHECK(v["SKU-2"].outcome == Outcome::Error);
  CHECK(v["SKU-2"].message == "the difference (right - left) between the quantities of shop ERP-2 and erp WMS-2 exceeds " +
                                  kBaseRange + "; check these records' values");
}

TEST_CASE("exact values: ledger_equal balances beyond int64 are an error verdict naming the entries") {
  Fixture f;
  f.rec.cardinality = Cardinality::ManyToMany;
  f.add(f.left, "P1", "GC-1", k2p62, 0, 0);
  f.add(f.left, "P2", "GC-1", k2p62, 0, 1);
  f.add(f.right, "J1", "GC-1", k2p62, 0, 0);
  RuleSpec r = rule_of(RuleKind::LedgerEqual, "amount");
  r.left_time = r.right_time = "at";
  auto v = f.run(r);
  CHECK(v["GC-1"].outcome == Outcome::Error);
  CHECK(v["GC-1"].message == "the balance of amount over shop P1, P2 exceeds " + kRange + "; check these records' values");
}

TEST_CASE("exact values: exists_in does not wrap the amount at stake of the records it names") {
  Fixture f;
  f.add(f.left, "S1", "K1", k2p62);
  f.add(f.left, "S2", "K1", k2p62);
  f.rec.cardinality = Cardinality::ManyToOne;
  RuleSpec exists = rule_of(RuleKind::ExistsIn, "");
  exists.side = Side::Right;
  exists.loc = {"stack.lua", 10};
  // exists_in finds the amount at stake through the reconcile's amount_equal.
  f.rec.rules = {rule_of(RuleKind::AmountEqual, "amount"), exists};
  StackSpec stack;
  ParamValues params = ParamValues::resolve(stack, {});
  auto compiled = compile_rule(f.rec.rules[1], f.rec, f.left_sys, f.right_sys, params);
  MatchResult m = match(f.left, {3}, f.right, {3});
  RuleContext ctx{&f.rec, &f.left, &f.right, &m, nullptr, nullptr, kT0};
  Verdict v;
  evaluate_rule(*compiled, m.groups[0], ctx, v);
  CHECK(v.outcome == Outcome::Error);
  CHECK(v.message == "the sum of the amounts over shop S1, S2 exceeds " + kRange + "; check these records' values");
}

TEST_CASE("exact values: report totals beyond int64 are refused with which total, never wrapped") {
  ExceptionRow a, b;
  for (ExceptionRow* r : {&a, &b}) {
    r->status = "open";
    r->reconcile = "r";
    r->first_seen_at = "2026-03-14T10:22:00Z";
    r->has_amounts = true;
    r->currency = pack_currency("USD");
    r->left_amount = k2p62;
    r->right_amount = 0;
  }
  a.key = "K1";
  b.key = "K2";
  CHECK_THROWS_WITH_AS(totals_report({a, b}, "day"),
                       ("the left total of 2026-03-14 open USD r exceeds " + kRange +
                        "; narrow the report (--reconcile, --key, --since/--until) so that each total fits")
                           .c_str(),
                       UserError);
  // One key's total fits, but right - left does not.
  a.left_amount = kMin + 1;
  a.right_amount = 5;
  CHECK_THROWS_WITH_AS(totals_report({a}, "day"),
                       ("the net variance (right - left) of 2026-03-14 open USD r key K1 exceeds " + kRange +
                        "; narrow the report (--reconcile, --key, --since/--until)")
                           .c_str(),
                       UserError);
}

TEST_CASE("exact values: an exception whose amount at stake exceeds int64 is listed without amounts") {
  TempDir dir;
  Db db(dir / "a.db", true);
  migrate_audit_schema(db);
  db.exec("INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host) "
          "VALUES ('s', 'dir', 'd', '0', '2026-03-14T10:22:00Z', '2026-03-14T10:22:00Z', 'complete', 1, 'h')");
  db.exec("INSERT INTO exceptions (stack_name, reconcile, group_key, rule, system_of_record, status, severity, first_run, "
          "first_seen_at, last_run, last_seen_at, outcome, left_ids, right_ids, message, currency, left_amount, "
          "right_amount) VALUES ('s', 'r', 'K1', 'amount equal', 'shop', 'open', 'high', 1, '2026-03-14T10:22:00Z', 1, "
          "'2026-03-14T10:22:00Z', 'fail', '[\"S1\"]', '[\"E1\"]', 'off', 'USD', -9223372036854775807, 5), "
          "('s', 'r', 'K2', 'amount equal', 'shop', 'open', 'high', 1, '2026-03-14T10:22:00Z', 1, "
          "'2026-03-14T10:22:00Z', 'fail', '[\"S2\"]', '[\"E2\"]', 'off', 'USD', 100, 350)");
  auto rows = list_exceptions(db, "all", "2026-03-14T10:22:00Z");
  REQUIRE(rows.size() == 2);
  CHECK_FALSE(rows[0].has_amounts);
  CHECK(rows[0].currency == 0);
  CHECK(rows[0].amount_minor == 0);
  CHECK(rows[1].has_amounts);
  CHECK(rows[1].amount_minor == 250);
}

// ---- sign notations --------------------------------------------------------------------

TEST_CASE("exact values: each sign notation alone is read, with or without a currency") {
  const std::pair<const char*, int64_t> accepted[] = {
      {"25.00", 2500},         {"-25.00", -2500},       {"+25.00", 2500},         {"25.00-", -2500},
      {"(25.00)", -2500},      {"$25.00", 2500},        {"-$25.00", -2500},       {"$-25.00", -2500},
      {"+$25.00", 2500},       {"$+25.00", 2500},       {"$25.00-", -2500},       {"($25.00)", -2500},
      {"USD 25.00", 2500},     {"USD -25.00", -2500},   {"USD +25.00", 2500},     {"USD 25.00-", -2500},
      {"USD (25.00)", -2500},  {"(USD 25.00)", -2500},  {"25.00 USD", 2500},      {"-25.00 USD", -2500},
      {"+25.00 USD", 2500},    {"25.00- USD", -2500},   {"(25.00) USD", -2500},   {"(25.00 USD)", -2500},
      {"- 25.00", -2500},      {"( 25.00 )", -2500},    {"25.00 -", -2500},       {"USD-25.00", -2500},
      {"\xE2\x82\xAC-25.00", -2500}, {"-\xC2\xA3" "25.00", -2500}, {"(\xC2\xA5" "25.00)", -2500},
      {"EUR \xE2\x82\xAC" "25.00-", -2500},
  };
  for (const auto& [given, expected] : accepted) {
    const auto& text = given;  // CAPTURE cannot take a structured binding (clang)
    CAPTURE(text);
    CHECK(minor(text) == expected);
  }
  auto r = parse_amount("USD (25.00)", 2, {});
  REQUIRE(r.ok());
  CHECK(*r->currency == "USD");
}

TEST_CASE("exact values: two sign notations are refused with which ones, never multiplied out") {
  const std::pair<const char*, const char*> refused[] = {
      {"(-25.00)", "two sign notations (parentheses and a leading '-')"},
      {"(+25.00)", "two sign notations (parentheses and a leading '+')"},
      {"-(25.00)", "two sign notations (a leading '-' and parentheses)"},
      {"(25.00)-", "two sign notations (a trailing '-' and parentheses)"},
      {"(25.00-)", "two sign notations (parentheses and a trailing '-')"},
      {"-25.00-", "two sign notations (a leading '-' and a trailing '-')"},
      {"+25.00-", "two sign notations (a leading '+' and a trailing '-')"},
      {"--25.00", "two sign notations (a leading '-' and a leading '-')"},
      {"+-25.00", "two sign notations (a leading '+' and a leading '-')"},
      {"-$-25.00", "two sign notations (a leading '-' and a leading '-')"},
      {"(-$25.00)", "two sign notations (parentheses and a leading '-')"},
      {"$-25.00-", "two sign notations (a leading '-' and a trailing '-')"},
      {"USD -25.00-", "two sign notations (a leading '-' and a trailing '-')"},
      {"-25.00- USD", "two sign notations (a leading '-' and a trailing '-')"},
      {"USD (-25.00)", "two sign notations (parentheses and a leading '-')"},
      {"(USD -25.00)", "two sign notations (parentheses and a leading '-')"},
      {"(-25.00) USD", "two sign notations (parentheses and a leading '-')"},
      {"(-25.00-)", "three sign notations (parentheses, a leading '-' and a trailing '-')"},
  };
  for (const auto& [given, why] : refused) {
    const auto& text = given;  // CAPTURE cannot take a structured binding (clang)
    CAPTURE(text);
    CHECK(refusal(text) == "cannot read '" + std::string(text) + "' as an amount: " + why + ": use one");
  }
  // A lone '-' is a declared dash = "zero" or null_if = { "-" }, never read as a number.
  CHECK(refusal("-") == "cannot read '-' as an amount: a lone '-' is not a number; declare dash = \"zero\" if the "
                        "export writes zero as '-', or null_if = { \"-\" } if it means no value");
  CHECK(refusal("()") == "cannot read '()' as an amount: no digits");
}

// ---- ids --------------------------------------------------------------------------------

TEST_CASE("exact values: a whitespace-only id or key is rejected with the field and column") {
  TempDir dir;
  write_file(dir / "in.csv", "id,key,amount\nA1,K1,1.00\n \t ,K2,2.00\nA3,   ,3.00\nA4,K4,4.00\n");
  SystemSpec s;
  s.name = "shop";
  s.source = ConnectorSpec{"csv", dir / "in.csv", {}, {"stack.lua", 3}};
  FieldSpec amount;
  amount.name = "amount";
  amount.kind = FieldKind::Money;
  amount.column = "amount";
  amount.currency = "USD";
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  id.required = true;
  FieldSpec key = id;
  key.name = "order";
  key.column = "key";
  s.fields = {amount, id, key};
  s.id_field = "id";
  MappedInput in = map_system(s, nullptr, MapOptions{1});
  CHECK(in.stats.accepted == 2);
  REQUIRE(in.rejects.size() == 2);
  CHECK(in.rejects[0].line == 3);
  CHECK(in.rejects[0].reason ==
        "required field 'id' (column 'id') holds only whitespace (3 characters): expected an id or key with at least "
        "one other character; fix the export or leave the row out");
  CHECK(in.rejects[1].line == 4);
  CHECK(in.rejects[1].reason ==
        "required field 'order' (column 'key') holds only whitespace (3 characters): expected an id or key with at "
        "least one other character; fix the export or leave the row out");
}

// ---- id lists ---------------------------------------------------------------------------

TEST_CASE("exact values: id lists are JSON arrays, old ', '-joined text still reads") {
  std::string list;
  append_id_list(list, "R1005", true);
  append_id_list(list, "R, 1006", false);
  append_id_list(list, "R\"1007", false);
  list += ']';
  CHECK(list == R"(["R1005","R, 1006","R\"1007"])");
  CHECK(read_id_list(list) == std::vector<std::string>{"R1005", "R, 1006", "R\"1007"});
  CHECK(display_id_list(list) == "R1005, R, 1006, R\"1007");
  CHECK(read_id_list("[]").empty());
  // Runs written before: one id as is, several joined with ", ", none as empty text.
  CHECK(read_id_list("CR-9005, CR-9006") == std::vector<std::string>{"CR-9005", "CR-9006"});
  CHECK(read_id_list("R1005") == std::vector<std::string>{"R1005"});
  CHECK(read_id_list("").empty());
  CHECK(read_id_list("[R1") == std::vector<std::string>{"[R1"});  // not JSON: old text
  CHECK(display_id_list("CR-9005, CR-9006") == "CR-9005, CR-9006");
}

// ---- NUL bytes and invalid UTF-8 -------------------------------------------------------

TEST_CASE("exact values: JSON escaping is valid for any bytes and reversible") {
  CHECK(escaped(std::string("A\0" "1", 3)) == R"("A\u00001")");
  CHECK(escaped("tab\there\x01\x1f") == R"("tab\there\u0001\u001f")");
  CHECK(escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");  // valid UTF-8 as is
  CHECK(escaped("B\xFF") == R"("B\udcff")");
  CHECK(escaped("\xC0\xAF") == R"("\udcc0\udcaf")");                // overlong '/'
  CHECK(escaped("\xED\xA0\x80") == R"("\udced\udca0\udc80")");      // an encoded surrogate
  CHECK(escaped("ok\xE2\x82") == R"("ok\udce2\udc82")");            // cut short at the end
  CHECK(escaped("12345678\xFF" "abcdefgh") == R"("12345678\udcffabcdefgh")");
  // Every byte value, alone and between text, comes back through the parser.
  std::vector<std::string> all;
  for (int c = 0; c < 256; ++c) {
    all.push_back(std::string(1, static_cast<char>(c)));
    all.push_back("id-" + std::string(1, static_cast<char>(c)) + "-\xC3\xA9-long enough for the fast path");
  }
  all.push_back("\xF0\x9F\x98\x80\xF0\x9F");
  std::string list;
  for (size_t i = 0; i < all.size(); ++i) append_id_list(list, all[i], i == 0);
  list += ']';
  for (unsigned char c : list) REQUIRE(c >= 0x20);  // no raw control characters
  CHECK(read_id_list(list) == all);
  CHECK(json_parse_string_array(R"(["\ud83d\ude00", "\u00e9\/"])") ==
        std::vector<std::string>{"\xF0\x9F\x98\x80", "\xC3\xA9/"});
  CHECK(json_parse_string(R"("A\u00001 \"q\"")") == std::string("A\0" "1 \"q\"", 7));
  CHECK_FALSE(json_parse_string(R"("a" )"));
  CHECK_FALSE(json_parse_string("\"a\nb\""));  // a raw control character
  CHECK_FALSE(json_parse_string_array(R"(["\udc12"])"));  // a lone surrogate json_escape_to never writes
  CHECK_FALSE(json_parse_string_array(R"(["a",])"));
  CHECK_FALSE(json_parse_string_array(R"(["a"] x)"));
}

TEST_CASE("exact values: SQLite-safe text and printable text") {
  CHECK(json_text_round_trips("R1005 caf\xC3\xA9"));
  CHECK_FALSE(json_text_round_trips(std::string("A\0" "1", 3)));
  CHECK_FALSE(json_text_round_trips("B\xFF"));
  CHECK(printable(std::string("A\0" "1", 3)) == "A\\x001");
  CHECK(printable("B\xFF caf\xC3\xA9\tok") == "B\\xFF caf\xC3\xA9\tok");
  CHECK(html_escape(std::string("<A\0" ">", 4)) == "&lt;A\\x00&gt;");
  CHECK(render_csv({{"id"}, {std::string("A\0" "1", 3)}}) == "id\r\nA\\x001\r\n");
  CHECK(quote_for_message("\xE2\x82\xAC\xE2\x82\xAC", 4) == "'\xE2\x82\xAC...'");  // not cut inside a character
}

TEST_CASE("exact values: a log with NUL bytes, invalid UTF-8, quotes and ', ' in keys and ids verifies") {
  TempDir dir;
  const std::string nul_id("A\0" "1", 3);
  {
    StackSpec stack;
    ParamValues params = ParamValues::resolve(stack, {});
    AuditLog log(dir / "a.db");
    log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""}, params);
    RuleSpec a;
    a.name = "exists";
    a.kind = RuleKind::ExistsIn;
    a.version = "v1";
    log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", a)});
    log.add_input({"left", "l.csv", "abc", 1, 0, 1}, {{"left", "l.csv", 2, "bad " + nul_id, "x," + nul_id}});
    std::string ids;
    append_id_list(ids, nul_id, true);
    ids += ']';
    log.add_group(0, "K1", R"(["L1"])", R"(["R1"])", {Verdict::pass()});
    log.add_group(0, nul_id, ids, ids, {Verdict::make(Outcome::Fail, "no " + nul_id, "1", nul_id)});
    log.add_group(0, "B\xFF", "[\"B\\udcff\"]", "[]", {Verdict::pass()});
    log.add_group(0, "D, E", R"(["D, E","F\"G"])", R"(["D, E"])", {Verdict::pass()});
    log.add_group(0, "K5", R"(["L5"])", R"(["R5"])", {Verdict::pass()});
    log.complete_run("2026-03-24T18:00:01Z");
  }
  Db db(dir / "a.db", false);
  VerifyReport report = verify_audit_log(db);
  REQUIRE(report.runs.size() == 1);
  CHECK(report.runs[0].problem == "");
  CHECK(report.ok());
  // Read back byte for byte, in group order (the two groups SQLite's JSON cannot carry
  // sit in group_rows, the rest in blocks).
  Statement s(db, "SELECT group_key, left_ids FROM groups WHERE run_id = 1 ORDER BY group_no");
  std::vector<std::string> keys, lefts;
  while (s.step()) {
    keys.push_back(s.text_at(0));
    lefts.push_back(s.text_at(1));
  }
  CHECK(keys == std::vector<std::string>{"K1", nul_id, "B\xFF", "D, E", "K5"});
  CHECK(read_id_list(lefts[1]) == std::vector<std::string>{nul_id});
  CHECK(read_id_list(lefts[2]) == std::vector<std::string>{"B\xFF"});
  CHECK(read_id_list(lefts[3]) == std::vector<std::string>{"D, E", "F\"G"});
  // trace finds whole ids only, in either stored form.
  CHECK(trace_key(db, "F\"G").size() == 1);
  CHECK(trace_key(db, "E").empty());
  CHECK(trace_key(db, nul_id).size() == 1);
  CHECK(trace_key(db, "B\xFF").size() == 1);
}

TEST_CASE("exact values: a log an older seam wrote with a NUL key inside a group block verifies") {
  TempDir dir;
  const std::string nul_id("A\0" "1", 3);
  {
    StackSpec stack;
    ParamValues params = ParamValues::resolve(stack, {});
    AuditLog log(dir / "a.db");
    log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""}, params);
    RuleSpec a;
    a.name = "exists";
    a.kind = RuleKind::ExistsIn;
    a.version = "v1";
    log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", a)});
    log.add_group(0, "K0", "L0", "R0", {Verdict::pass()});
    log.add_group(0, nul_id, nul_id, "R1", {Verdict::pass()});
    log.complete_run("2026-03-24T18:00:01Z");
  }
  Db db(dir / "a.db", false);
  // Where an older seam kept such a group: in the block, its key escaped as \u0000.
  db.exec("DROP TRIGGER groups_no_delete");
  db.exec("DROP TRIGGER group_blocks_no_delete");
  db.exec("DELETE FROM group_rows");
  db.exec("DELETE FROM group_blocks");
  db.exec(R"(INSERT INTO group_blocks VALUES (1, 0, '[[0,"K0","L0","R0","P"],[0,"A\u00001","A\u00001","R1","P"]]'))");
  CHECK(text_of(db, "SELECT length(group_key) FROM groups WHERE group_no = 1") == "1");  // what ->> gives back
  VerifyReport report = verify_audit_log(db);
  REQUIRE(report.runs.size() == 1);
  CHECK(report.runs[0].problem == "");
  // A changed byte after the NUL is still found.
  db.exec("DROP TRIGGER group_blocks_no_update");
  db.exec(R"(UPDATE group_blocks SET groups = replace(groups, 'A\u00001', 'A\u00002'))");
  CHECK(verify_audit_log(db).runs[0].problem ==
        "verdict rows do not match the sealed verdicts digest (a verdict was changed, added or removed)");
}

TEST_CASE("exact values: a run written with ', '-joined id lists still verifies and traces") {
  TempDir dir;
  {
    StackSpec stack;
    ParamValues params = ParamValues::resolve(stack, {});
    AuditLog log(dir / "a.db");
    log.begin_run({"shop", "dir", "digest", "2026-03-24T18:00:00Z", "2026-03-24T18:00:00Z", "", ""}, params);
    RuleSpec a;
    a.name = "unique";
    a.kind = RuleKind::Unique;
    a.version = "v1";
    log.add_reconcile(0, "r", "left", "right", {log.rule_id("shop", "r", a)});
    log.add_group(0, "R1005", "R1005", "CR-9005, CR-9006", {Verdict::make(Outcome::Fail, "twice")});  // as older seams wrote it
    log.complete_run("2026-03-24T18:00:01Z");
  }
  Db db(dir / "a.db", false);
  CHECK(verify_audit_log(db).ok());
  auto rows = trace_key(db, "CR-9006");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].right_ids == "CR-9005, CR-9006");
  CHECK(render_trace_text("CR-9006", rows, {}).find("  left: R1005   right: CR-9005, CR-9006\n") != std::string::npos);
  CHECK(render_trace_json("CR-9006", rows, {}).find(R"("left_ids":["R1005"],"right_ids":["CR-9005","CR-9006"])") !=
        std::string::npos);
  CHECK(trace_key(db, "CR-900").empty());
}
