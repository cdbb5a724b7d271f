#include <doctest/doctest.h>

#include <map>

#include "engine/match/matcher.hpp"
#include "engine/rules/builtin.hpp"
#include "engine/util/result.hpp"

using namespace seam;

namespace {

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
              field("key", FieldKind::Column), field("reason", FieldKind::Column), field("status", FieldKind::Column),
              field("qty", FieldKind::Quantity)};
  return s;
}

constexpr TimeUs kT0 = 1'773'483'720LL * kMicrosPerSecond;  // 2026-03-14T10:22:00Z

struct Rec {
  const char* id;
  const char* key;
  int64_t cents;
  int64_t minutes;  // after kT0
  const char* status = "ok";
  const char* reason = "damaged";  // nullptr: missing
  int64_t qty = 0;                 // base units
};

// Two systems, records on each side, one rule: the verdict for each group key.
class Fixture {
 public:
  Fixture() : left_sys(make_system("shop")), right_sys(make_system("erp")), left(left_sys), right(right_sys) {
    rec.name = "r";
    rec.left = "shop";
    rec.right = "erp";
    rec.left_key = {"key"};
    rec.right_key = {"key"};
    ParamSpec lag;
    lag.name = "lag";
    lag.type = ParamType::Integer;
    lag.default_text = "30";
    stack.params.push_back(lag);
  }
  void add(RecordSet& rs, const Rec& r) {
    Value* v = rs.begin_record();
    v[0] = Value::of_money(r.cents, pack_currency("USD"));
    v[1] = Value::of_time(kT0 + r.minutes * kMicrosPerMinute);
    v[2] = Value::of_text(r.id);
    v[3] = Value::of_text(r.key);
    v[4] = !r.reason ? Value::missing() : *r.reason ? Value::of_text(r.reason) : Value::empty();
    v[5] = Value::of_text(r.status);
    v[6] = Value::of_int(r.qty);
    rs.commit_record(rs.size() + 2, r.id);
  }
  std::map<std::string, Verdict> run(RuleSpec rule, TimeUs as_of = kT0 + 1000 * kMicrosPerMinute) {
    rule.loc = {"stack.lua", 10};
    rec.rules = {rule};
    ParamValues params = ParamValues::resolve(stack, {});
    auto compiled = compile_rule(rec.rules[0], rec, left_sys, right_sys, params);
    MatchResult m = match(left, {3}, right, {3});
    NearestFinder nearest(m, left, right, nearest_fields(rec, left_sys, right_sys, params));
    RuleContext ctx{&rec, &left, &right, &m, &nearest, nullptr, as_of};
    compiled->prepare(ctx);
    std::map<std::string, Verdict> out;
    for (const auto& g : m.groups) out[std::string(g.key)] = compiled->evaluate(g, ctx);
    return out;
  }

  SystemSpec left_sys, right_sys;
  RecordSet left, right;
  ReconcileSpec rec;
  StackSpec stack;
};

RuleSpec rule_of(RuleKind k) {
  RuleSpec r;
  r.kind = k;
  r.name = rule_kind_name(k);
  return r;
}

NumberRef literal(const char* text) { return NumberRef{true, "", *parse_decimal(text)}; }
NumberRef param_ref(const char* name) { return NumberRef{true, name, {}}; }

}  // namespace

TEST_CASE("exists_in: missing, pending inside the lag window, and the nearest candidate") {
  Fixture f;
  f.add(f.left, {"S1", "K1", 1000, 0});
  f.add(f.left, {"S2", "K2", 4500, 0});
  f.add(f.left, {"S3", "K9", 700, 990});   // 10 minutes before as_of: still expected
  f.add(f.right, {"E1", "K1", 1000, 5});
  f.add(f.right, {"E2", "2K", 4500, 12});  // K2 keyed with two characters swapped
  RuleSpec r = rule_of(RuleKind::ExistsIn);
  r.side = Side::Right;
  r.since_field = "at";
  r.grace_minutes = param_ref("lag");
  auto v = f.run(r);
  CHECK(v["K1"].outcome == Outcome::Pass);
  CHECK(v["K2"].outcome == Outcome::Fail);
  CHECK(v["K2"].message ==
        "no erp record with key K2 for shop S2, past the 30 min lag window; nearest erp candidate: E2 (key 2K)");
  CHECK(v["K2"].expected == "1 erp record");
  CHECK(v["K2"].actual == "none");
  CHECK(v["K9"].outcome == Outcome::Pending);
  CHECK(v["K9"].message == "no erp record yet for shop S3; expected by 2026-03-15T03:22:00Z (lag window 30 min)");
  CHECK(v["2K"].outcome == Outcome::Skip);  // nothing on the left to look for
}

TEST_CASE("exists_in: the hint names a same-amount candidate whose key is one swap away") {
  Fixture f;
  RuleSpec amount = rule_of(RuleKind::AmountEqual);
  amount.left_field = amount.right_field = "amount";
  RuleSpec within = rule_of(RuleKind::Within);
  within.left_field = within.right_field = "at";
  within.minutes = literal("30");
  RuleSpec r = rule_of(RuleKind::ExistsIn);
  r.side = Side::Right;
  f.add(f.left, {"R1013", "R1013", 4500, 0});
  f.add(f.left, {"R1003", "R1003", 6000, 0});
  f.add(f.right, {"CR-9014", "R1031", 4500, 12});
  f.rec.rules = {r, amount, within};
  ParamValues params = ParamValues::resolve(f.stack, {});
  MatchResult m = match(f.left, {3}, f.right, {3});
  NearestFinder nearest(m, f.left, f.right, nearest_fields(f.rec, f.left_sys, f.right_sys, params));
  CHECK(nearest.describe(m.groups[0]) == "CR-9014 (key R1031, same amount 45.00 USD, 12 min later)");
  CHECK(nearest.describe(m.groups[1]) == "");  // two substitutions and another amount: no hint
  CHECK(nearest.describe(m.groups[2]) == "R1013 (key R1013, same amount 45.00 USD, 12 min earlier)");
}

TEST_CASE("amount_equal: exact, tolerance, percentage, sums on the many side") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1000, 0});
  f.add(f.right, {"E1", "A", 1000, 0});
  f.add(f.left, {"S2", "B", 4000, 0});
  f.add(f.right, {"E2", "B", 400, 0});
  f.add(f.left, {"S3", "C", 10000, 0});
  f.add(f.right, {"E3", "C", 10001, 0});
  f.add(f.left, {"S4", "D", 2000, 0});  // two partial refunds on the left
  f.add(f.left, {"S5", "D", 1500, 0});
  f.add(f.right, {"E4", "D", 2000, 0});
  f.add(f.left, {"S6", "E", 500, 0});
  RuleSpec r = rule_of(RuleKind::AmountEqual);
  r.left_field = r.right_field = "amount";
  r.sum_left = true;
  auto v = f.run(r);
  CHECK(v["A"].outcome == Outcome::Pass);
  CHECK(v["B"].outcome == Outcome::Fail);
  CHECK(v["B"].message == "erp E2 amount 4.00 USD differs from shop S2 amount 40.00 USD by -36.00 USD (tolerance 0)");
  CHECK(v["B"].expected == "40.00 USD");
  CHECK(v["B"].actual == "4.00 USD");
  CHECK(v["B"].delta == "-36.00 USD");
  CHECK(v["C"].outcome == Outcome::Fail);
  CHECK(v["D"].outcome == Outcome::Fail);
  CHECK(v["D"].delta == "-15.00 USD");
  CHECK(v["D"].message == "erp E4 amount 20.00 USD differs from shop total 35.00 USD (2 records) by -15.00 USD (tolerance 0)");
  CHECK(v["E"].outcome == Outcome::Skip);
  CHECK(v["E"].message == "no erp record");

  r.tolerance = literal("0.01");
  auto tol = f.run(r);
  CHECK(tol["C"].outcome == Outcome::Pass);
  CHECK(tol["B"].outcome == Outcome::Fail);

  r.tolerance = {};
  r.tolerance_pct = literal("0.01");  // 0.01% of 100.00 = 0.01
  auto pct = f.run(r);
  CHECK(pct["C"].outcome == Outcome::Pass);
  CHECK(pct["D"].outcome == Outcome::Fail);
}

TEST_CASE("value_map and equal: mapped codes, unmapped codes, plain equality") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0, "succeeded"});
  f.add(f.right, {"E1", "A", 1, 0, "Refunded"});
  f.add(f.left, {"S2", "B", 1, 0, "succeeded"});
  f.add(f.right, {"E2", "B", 1, 0, "Pending Approval"});
  f.add(f.left, {"S3", "C", 1, 0, "voided"});
  f.add(f.right, {"E3", "C", 1, 0, "Voided"});
  RuleSpec r = rule_of(RuleKind::ValueMap);
  r.left_field = r.right_field = "status";
  r.map = {{"succeeded", "Refunded"}, {"pending", "Pending Approval"}};
  auto v = f.run(r);
  CHECK(v["A"].outcome == Outcome::Pass);
  CHECK(v["B"].outcome == Outcome::Fail);
  CHECK(v["B"].message == "erp E2 status is 'Pending Approval', expected 'Refunded' for shop status 'succeeded'");
  CHECK(v["C"].outcome == Outcome::Fail);
  CHECK(v["C"].message == "shop status 'voided' has no mapping to erp (map covers: pending, succeeded)");

  RuleSpec eq = rule_of(RuleKind::Equal);
  eq.left_field = eq.right_field = "status";
  auto e = f.run(eq);
  CHECK(e["A"].outcome == Outcome::Fail);
  CHECK(e["A"].expected == "succeeded");
  CHECK(e["A"].actual == "Refunded");
}

TEST_CASE("within: lag in either direction beyond the limit fails") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0});
  f.add(f.right, {"E1", "A", 1, 29});
  f.add(f.left, {"S2", "B", 1, 0});
  f.add(f.right, {"E2", "B", 1, 135});
  f.add(f.left, {"S3", "C", 1, 60});
  f.add(f.right, {"E3", "C", 1, 0});
  RuleSpec r = rule_of(RuleKind::Within);
  r.left_field = r.right_field = "at";
  r.minutes = param_ref("lag");
  auto v = f.run(r);
  CHECK(v["A"].outcome == Outcome::Pass);
  CHECK(v["B"].outcome == Outcome::Fail);
  CHECK(v["B"].message ==
        "erp E2 at 2026-03-14T12:37:00Z is 135 min after shop at 2026-03-14T10:22:00Z (limit 30 min)");
  CHECK(v["B"].delta == "105 min");
  CHECK(v["C"].outcome == Outcome::Fail);
  CHECK(v["C"].actual == "-60 min");
}

TEST_CASE("unique: the same key twice on a side is an idempotency failure") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0});
  f.add(f.right, {"E1", "A", 1, 0});
  f.add(f.right, {"E2", "A", 1, 1});
  f.add(f.left, {"S2", "B", 1, 0});
  f.add(f.right, {"E3", "B", 1, 0});
  RuleSpec r = rule_of(RuleKind::Unique);
  r.side = Side::Right;
  r.field = "key";
  auto v = f.run(r);
  CHECK(v["A"].outcome == Outcome::Fail);
  CHECK(v["A"].message == "key 'A' appears 2 times in erp: E1, E2; E2 (line 3) repeats E1 (line 2)");
  CHECK(v["A"].actual == "2 records");
  CHECK(v["B"].outcome == Outcome::Pass);
}

TEST_CASE("unique: a non-key field shared across groups is found through the whole side when the scope is the system") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0});
  f.add(f.right, {"E1", "A", 1, 0, "TX-1"});  // status stands in for an ERP transaction id
  f.add(f.left, {"S2", "B", 1, 0});
  f.add(f.right, {"E2", "B", 1, 0, "TX-1"});  // same transaction id on another refund
  f.add(f.left, {"S3", "C", 1, 0});
  f.add(f.right, {"E3", "C", 1, 0, "TX-3"});
  RuleSpec r = rule_of(RuleKind::Unique);
  r.side = Side::Right;
  r.field = "status";
  r.system_scope = true;
  auto v = f.run(r);
  CHECK(v["A"].message == "status 'TX-1' appears 2 times in erp: E1, E2; E2 (line 3) repeats E1 (line 2)");
  CHECK(v["B"].message == "status 'TX-1' appears 2 times in erp: E1, E2; E2 (line 3) repeats E1 (line 2)");
  CHECK(v["C"].outcome == Outcome::Pass);
  r.system_scope = false;  // within each group, no group holds TX-1 twice
  auto in_group = f.run(r);
  CHECK(in_group["A"].outcome == Outcome::Pass);
  CHECK(in_group["B"].outcome == Outcome::Pass);
}

TEST_CASE("unique: within the group by default, over several fields together, naming the later record as the duplicate") {
  // Order 5001 has two lines (SKU-1, SKU-2) and SKU-1 picked twice; order 5002 one line.
  // `unique { "right.order_id" }` system-wide flagged every multi-line order; within the
  // group and over order + sku, only the double pick fails.
  Fixture f;
  f.add(f.left, {"S1", "5001", 1, 0});
  f.add(f.right, {"P1", "5001", 1, 30, "SKU-1"});  // status stands in for the SKU
  f.add(f.right, {"P2", "5001", 1, 10, "SKU-2"});
  f.add(f.right, {"P3", "5001", 1, 20, "SKU-1"});  // the double pick, though earlier in the file than P1's time
  f.add(f.left, {"S2", "5002", 1, 0});
  f.add(f.right, {"P4", "5002", 1, 0, "SKU-1"});
  RuleSpec r = rule_of(RuleKind::Unique);
  r.side = Side::Right;
  r.fields = {"key", "status"};
  f.right_sys.record_time_field = "at";
  auto v = f.run(r);
  CHECK(v["5001"].outcome == Outcome::Fail);
  // P1 is at +30 min, P3 at +20: the later by record time is P1, though P3 comes later in the file.
  CHECK(v["5001"].message ==
        "key+status '5001 | SKU-1' appears 2 times in erp in this group: P1, P3; P1 (line 2) repeats P3 (line 4)");
  CHECK(v["5002"].outcome == Outcome::Pass);
  f.right_sys.record_time_field.clear();  // without a record time: the later line is the duplicate
  auto by_line = f.run(r);
  CHECK(by_line["5001"].message ==
        "key+status '5001 | SKU-1' appears 2 times in erp in this group: P1, P3; P3 (line 4) repeats P1 (line 2)");
}

TEST_CASE("present: missing and empty values fail, with which record") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0});
  f.add(f.right, {"E1", "A", 1, 0, "ok", nullptr});
  f.add(f.left, {"S2", "B", 1, 0});
  f.add(f.right, {"E2", "B", 1, 0, "ok", ""});
  f.add(f.left, {"S3", "C", 1, 0});
  f.add(f.right, {"E3", "C", 1, 0, "ok", "DMG"});
  RuleSpec r = rule_of(RuleKind::Present);
  r.side = Side::Right;
  r.field = "reason";
  auto v = f.run(r);
  CHECK(v["A"].message == "erp E1 has no reason (missing)");
  CHECK(v["B"].message == "erp E2 has no reason (empty)");
  CHECK(v["B"].actual == "empty");
  CHECK(v["C"].outcome == Outcome::Pass);
}

TEST_CASE("rules that read undeclared fields or params fail at compile time with file:line") {
  Fixture f;
  RuleSpec r = rule_of(RuleKind::AmountEqual);
  r.left_field = r.right_field = "amout";
  r.loc = {"stack.lua", 10};
  ParamValues params = ParamValues::resolve(f.stack, {});
  CHECK_THROWS_WITH_AS(compile_rule(r, f.rec, f.left_sys, f.right_sys, params),
                       "stack.lua:10: rule 'amount_equal' reads left field 'amout', which system 'shop' does not "
                       "declare (did you mean 'amount'?)",
                       UserError);
  RuleSpec w = rule_of(RuleKind::Within);
  w.left_field = w.right_field = "status";
  w.minutes = literal("5");
  w.loc = {"stack.lua", 11};
  CHECK_THROWS_WITH_AS(compile_rule(w, f.rec, f.left_sys, f.right_sys, params),
                       "stack.lua:11: rule 'within' needs field 'status' of system 'shop' to be declared as time { ... } "
                       "(declared at :0)",
                       UserError);
  RuleSpec p = rule_of(RuleKind::Within);
  p.left_field = p.right_field = "at";
  p.minutes = param_ref("lag_minuts");
  p.loc = {"stack.lua", 12};
  CHECK_THROWS_AS(compile_rule(p, f.rec, f.left_sys, f.right_sys, params), UserError);
}

TEST_CASE("matching: groups in a deterministic order, every record in exactly one group") {
  Fixture f;
  f.add(f.left, {"S1", "B", 1, 0});
  f.add(f.left, {"S2", "A", 1, 0});
  f.add(f.left, {"S3", "B", 1, 0});
  f.add(f.right, {"E1", "Z", 1, 0});
  f.add(f.right, {"E2", "A", 1, 0});
  MatchResult m = match(f.left, {3}, f.right, {3});
  REQUIRE(m.groups.size() == 3);
  CHECK(m.groups[0].key == "B");
  CHECK(m.groups[0].left_count == 2);
  CHECK(m.groups[1].key == "A");
  CHECK(m.groups[1].right_count == 1);
  CHECK(m.groups[2].key == "Z");
  CHECK(m.groups[2].left_count == 0);
  CHECK(f.left.id(m.left_of(m.groups[0])[1]) == "S3");
}

TEST_CASE("quantity_equal: count drift in base units beyond the tolerance, sums on the many side") {
  Fixture f;
  f.add(f.left, {"ERP-1", "SKU-1", 0, 0, "ok", "", 52});
  f.add(f.right, {"WMS-1", "SKU-1", 0, 0, "ok", "", 47});
  f.add(f.left, {"ERP-2", "SKU-2", 0, 0, "ok", "", 10});
  f.add(f.right, {"WMS-2", "SKU-2", 0, 0, "ok", "", 11});
  f.add(f.left, {"ERP-3", "SKU-3", 0, 0, "ok", "", 30});
  f.add(f.right, {"WMS-3a", "SKU-3", 0, 0, "ok", "", 18});  // two locations
  f.add(f.right, {"WMS-3b", "SKU-3", 0, 0, "ok", "", 12});
  RuleSpec r = rule_of(RuleKind::QuantityEqual);
  r.left_field = r.right_field = "qty";
  r.sum_right = true;
  r.tolerance = literal("1");
  auto v = f.run(r);
  CHECK(v["SKU-1"].outcome == Outcome::Fail);
  CHECK(v["SKU-1"].message == "erp WMS-1 qty 47 differs from shop ERP-1 qty 52 by -5 (tolerance 1)");
  CHECK(v["SKU-1"].expected == "52");
  CHECK(v["SKU-1"].actual == "47");
  CHECK(v["SKU-1"].delta == "-5");
  CHECK(v["SKU-2"].outcome == Outcome::Pass);
  CHECK(v["SKU-3"].outcome == Outcome::Pass);
  r.tolerance = literal("0.5");
  CHECK_THROWS_WITH_AS(f.run(r), "stack.lua:10: rule 'quantity_equal' tolerance must be a whole number of units, found 0.5",
                       UserError);
  r.tolerance = {};
  r.left_field = r.right_field = "amount";
  CHECK_THROWS_WITH_AS(f.run(r),
                       "stack.lua:10: rule 'quantity_equal' needs field 'amount' of system 'shop' to be declared as "
                       "integer { ... } or quantity { ... } (declared at :0)",
                       UserError);
}

TEST_CASE("ledger_equal: running balances in time order, and the first entry where two ledgers part ways") {
  Fixture f;
  f.rec.cardinality = Cardinality::ManyToMany;
  // Card GC-1: platform load +100, redemption -30, refund to store credit +10; the ERP got all three.
  f.add(f.left, {"P1", "GC-1", 10000, 0});
  f.add(f.left, {"P2", "GC-1", -3000, 60});
  f.add(f.left, {"P3", "GC-1", 1000, 120});
  f.add(f.right, {"J3", "GC-1", 1000, 125});
  f.add(f.right, {"J1", "GC-1", 10000, 5});
  f.add(f.right, {"J2", "GC-1", -3000, 65});
  // Card GC-2: the load never reached the ERP; its redemption did.
  f.add(f.left, {"P4", "GC-2", 5000, 0});
  f.add(f.left, {"P5", "GC-2", -2000, 30});
  f.add(f.right, {"J5", "GC-2", -2000, 31});
  // Card GC-3: the ERP posted the second redemption twice.
  f.add(f.left, {"P6", "GC-3", 2500, 0});
  f.add(f.left, {"P7", "GC-3", -500, 10});
  f.add(f.right, {"J6", "GC-3", 2500, 1});
  f.add(f.right, {"J7", "GC-3", -500, 11});
  f.add(f.right, {"J8", "GC-3", -500, 12});
  RuleSpec r = rule_of(RuleKind::LedgerEqual);
  r.left_field = r.right_field = "amount";
  r.left_time = r.right_time = "at";
  auto v = f.run(r);
  CHECK(v["GC-1"].outcome == Outcome::Pass);
  CHECK(v["GC-2"].outcome == Outcome::Fail);
  CHECK(v["GC-2"].message ==
        "ledgers part ways at entry 1: shop P4 (2026-03-14T10:22:00Z, 50.00 USD) has no erp entry; balances agreed at "
        "0.00 USD before it; final balance shop 30.00 USD, erp -20.00 USD");
  CHECK(v["GC-2"].expected == "30.00 USD");
  CHECK(v["GC-2"].actual == "-20.00 USD");
  CHECK(v["GC-2"].delta == "-50.00 USD");
  CHECK(v["GC-3"].outcome == Outcome::Fail);
  CHECK(v["GC-3"].message ==
        "ledgers part ways at entry 3: erp J8 (2026-03-14T10:34:00Z, -5.00 USD) has no shop entry; balances agreed "
        "at 20.00 USD before it; final balance shop 20.00 USD, erp 15.00 USD");
  CHECK(v["GC-3"].delta == "-5.00 USD");
}

TEST_CASE("low_stock: average daily sell-through over the last D days, against K x it") {
  Fixture f;
  const int64_t day = 24 * 60;  // minutes
  const TimeUs as_of = kT0 + 10 * day * kMicrosPerMinute;
  // SKU-A: 30 sold in the last 7 days (4.28/day); 5 available is under 2 x that.
  f.add(f.left, {"S1", "SKU-A", 0, 10 * day - 60, "ok", "", 10});
  f.add(f.left, {"S2", "SKU-A", 0, 4 * day, "ok", "", 20});
  f.add(f.left, {"S3", "SKU-A", 0, 2 * day, "ok", "", 50});  // 8 days before as-of: outside the window
  f.add(f.right, {"E1", "SKU-A", 0, 0, "ok", "", 5});
  // SKU-B: the same sales, plenty of stock.
  f.add(f.left, {"S4", "SKU-B", 0, 9 * day, "ok", "", 30});
  f.add(f.right, {"E2", "SKU-B", 0, 0, "ok", "", 100});
  // SKU-C: exactly 2 x the average is not low.
  f.add(f.left, {"S5", "SKU-C", 0, 9 * day, "ok", "", 7});
  f.add(f.right, {"E3", "SKU-C", 0, 0, "ok", "", 2});
  // SKU-D: sold, but no stock record to judge.
  f.add(f.left, {"S6", "SKU-D", 0, 9 * day, "ok", "", 3});
  f.rec.cardinality = Cardinality::ManyToOne;
  RuleSpec r = rule_of(RuleKind::LowStock);
  r.side = Side::Right;
  r.field = "qty";
  r.sales_field = "qty";
  r.sales_time = "at";
  r.days = literal("7");
  r.factor = literal("2");
  auto v = f.run(r, as_of);
  CHECK(v["SKU-A"].outcome == Outcome::Fail);
  CHECK(v["SKU-A"].message == "erp qty is 5, under 2 x the average daily sell-through of 4.28 (30 sold in the 7 days "
                              "to 2026-03-24T10:22:00Z)");
  CHECK(v["SKU-A"].expected == ">= 8.57");
  CHECK(v["SKU-A"].actual == "5");
  CHECK(v["SKU-B"].outcome == Outcome::Pass);
  CHECK(v["SKU-C"].outcome == Outcome::Pass);
  CHECK(v["SKU-D"].outcome == Outcome::Skip);
  r.factor = literal("3.5");  // SKU-C: 2 < 3.5 x 1/day
  CHECK(f.run(r, as_of)["SKU-C"].outcome == Outcome::Fail);
  r.days = literal("0");
  CHECK_THROWS_WITH_AS(f.run(r, as_of), "stack.lua:10: rule 'low_stock' days must be a whole number of at least 1",
                       UserError);
}

TEST_CASE("ledger_equal: a stock ledger in base units (receipts, picks, counts) parts ways at the double pick") {
  Fixture f;
  f.rec.cardinality = Cardinality::ManyToMany;
  f.add(f.left, {"MV-1", "SKU-200", 0, 0, "ok", "", 24});   // receipt
  f.add(f.left, {"MV-2", "SKU-200", 0, 60, "ok", "", -1});  // pick
  f.add(f.left, {"MV-3", "SKU-200", 0, 61, "ok", "", -1});  // the same order picked again
  f.add(f.right, {"IT-1", "SKU-200", 0, 5, "ok", "", 24});
  f.add(f.right, {"IT-2", "SKU-200", 0, 65, "ok", "", -1});
  RuleSpec r = rule_of(RuleKind::LedgerEqual);
  r.left_field = r.right_field = "qty";
  r.left_time = r.right_time = "at";
  auto v = f.run(r);
  CHECK(v["SKU-200"].outcome == Outcome::Fail);
  CHECK(v["SKU-200"].message ==
        "ledgers part ways at entry 3: shop MV-3 (2026-03-14T11:23:00Z, -1) has no erp entry; balances agreed at 23 "
        "before it; final balance shop 22, erp 23");
  CHECK(v["SKU-200"].delta == "1");
}

TEST_CASE("a built-in rule that throws gets an error verdict and the next verdict in its place is its own") {
  struct Throwing final : CompiledRule {
    Verdict evaluate(const MatchGroup&, const RuleContext&) const override { throw std::runtime_error("no such amount"); }
  };
  struct Failing final : CompiledRule {
    Verdict evaluate(const MatchGroup&, const RuleContext&) const override {
      return Verdict::make(Outcome::Fail, "amounts differ", "10.00 USD", "12.00 USD", "+2.00 USD");
    }
  };
  MatchGroup g{"R1"};
  RuleContext ctx;
  Verdict slot = Verdict::make(Outcome::Warn, "an earlier group's verdict", "x", "y", "z");
  evaluate_rule(Throwing{}, g, ctx, slot);
  CHECK(slot.outcome == Outcome::Error);
  CHECK(slot.message == "rule failed: no such amount");
  CHECK(slot.expected.empty());
  CHECK(slot.delta.empty());
  evaluate_rule(Failing{}, g, ctx, slot);
  CHECK(slot.outcome == Outcome::Fail);
  CHECK(slot.message == "amounts differ");
  CHECK(slot.actual == "12.00 USD");
  CHECK(slot.delta == "+2.00 USD");
}
