// Rule options that match the peers' semantics: tolerance bases, text compared without
// case or surrounding spaces, lag windows with a minimum, a direction, an anchor and
// calendar days in a zone, and one-sided value sets carrying the money at stake.
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
  for (auto [n, k] : {std::pair{"amount", FieldKind::Money}, std::pair{"at", FieldKind::Time},
                      std::pair{"id", FieldKind::Column}, std::pair{"key", FieldKind::Column},
                      std::pair{"status", FieldKind::Column}}) {
    FieldSpec f;
    f.name = n;
    f.kind = k;
    s.fields.push_back(f);
  }
  return s;
}

constexpr TimeUs kT0 = 1'773'483'720LL * kMicrosPerSecond;  // 2026-03-14T10:22:00Z

struct Rec {
  const char* id;
  const char* key;
  int64_t cents;
  int64_t minutes;  // after kT0
  const char* status = "ok";
};

struct Fixture {
  SystemSpec left_sys = make_system("shop"), right_sys = make_system("erp");
  RecordSet left{left_sys}, right{right_sys};
  ReconcileSpec rec;
  StackSpec stack;
  Fixture() {
    rec.name = "r";
    rec.left = "shop";
    rec.right = "erp";
    rec.left_key = rec.right_key = {"key"};
  }
  void add(RecordSet& rs, const Rec& r) {
    Value* v = rs.begin_record();
    v[0] = Value::of_money(r.cents, pack_currency("USD"));
    v[1] = Value::of_time(kT0 + r.minutes * kMicrosPerMinute);
    v[2] = Value::of_text(r.id);
    v[3] = Value::of_text(r.key);
    v[4] = *r.status ? Value::of_text(r.status) : Value::empty();
    rs.commit_record(rs.size() + 2, r.id);
  }
  std::map<std::string, Verdict> run(RuleSpec rule) {
    rule.loc = {"stack.lua", 7};
    if (rule.name.empty()) rule.name = rule_kind_name(rule.kind);
    rec.rules = {rule};
    ParamValues params = ParamValues::resolve(stack, {});
    auto compiled = compile_rule(rec.rules[0], rec, left_sys, right_sys, params);
    MatchResult m = match(left, {3}, right, {3});
    RuleContext ctx{&rec, &left, &right, &m, nullptr, nullptr, kT0};
    compiled->prepare(ctx);
    std::map<std::string, Verdict> out;
    for (const auto& g : m.groups) out[std::string(g.key)] = compiled->evaluate(g, ctx);
    return out;
  }
};

RuleSpec rule_of(RuleKind k) {
  RuleSpec r;
  r.kind = k;
  return r;
}
NumberRef literal(const char* text) { return NumberRef{true, "", *parse_decimal(text)}; }

}  // namespace

TEST_CASE("amount_equal: a percentage tolerance of the left, right, larger or smaller amount, exact at the boundary") {
  Fixture f;
  f.add(f.left, {"S1", "A", 10000, 0});
  f.add(f.right, {"E1", "A", 10200, 0});  // 2.00 on 100.00 (2 %) and on 102.00 (1.96 %)
  RuleSpec r = rule_of(RuleKind::AmountEqual);
  r.left_field = r.right_field = "amount";
  r.tolerance_pct = literal("1.97");
  CHECK(f.run(r)["A"].outcome == Outcome::Fail);  // of the left: 2 % > 1.97 %
  CHECK(f.run(r)["A"].message == "erp E1 amount 102.00 USD differs from shop S1 amount 100.00 USD by 2.00 USD (tolerance 0 or 1.97%)");
  r.tolerance_base = ToleranceBase::Right;
  CHECK(f.run(r)["A"].outcome == Outcome::Pass);
  r.tolerance_base = ToleranceBase::Larger;
  CHECK(f.run(r)["A"].outcome == Outcome::Pass);
  r.tolerance_base = ToleranceBase::Smaller;
  CHECK(f.run(r)["A"].message ==
        "erp E1 amount 102.00 USD differs from shop S1 amount 100.00 USD by 2.00 USD (tolerance 0 or 1.97% of the smaller)");
  r.tolerance_pct = literal("2");
  CHECK(f.run(r)["A"].outcome == Outcome::Pass);  // at the boundary
}

TEST_CASE("equal and value_map: ignore_case and trim compare text as declared, and only then") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0, "Succeeded"});
  f.add(f.right, {"E1", "A", 1, 0, " REFUNDED "});
  RuleSpec eq = rule_of(RuleKind::Equal);
  eq.left_field = eq.right_field = "status";
  CHECK(f.run(eq)["A"].outcome == Outcome::Fail);
  RuleSpec map = rule_of(RuleKind::ValueMap);
  map.left_field = map.right_field = "status";
  map.map = {{"succeeded", "Refunded"}};
  CHECK(f.run(map)["A"].message == "shop status 'Succeeded' has no mapping to erp (map covers: succeeded)");
  map.ignore_case = true;
  CHECK(f.run(map)["A"].outcome == Outcome::Fail);  // ' REFUNDED ' still has spaces
  map.trim = true;
  CHECK(f.run(map)["A"].outcome == Outcome::Pass);
}

TEST_CASE("within: a minimum lag, a direction, and the group's earliest or latest times") {
  Fixture f;
  f.add(f.left, {"S1", "A", 1, 0});
  f.add(f.right, {"E1", "A", 1, 5});
  f.add(f.left, {"S2", "B", 1, 60});
  f.add(f.right, {"E2", "B", 1, 30});
  RuleSpec r = rule_of(RuleKind::Within);
  r.left_field = r.right_field = "at";
  r.minutes = literal("40");
  r.min_minutes = literal("10");
  auto v = f.run(r);
  CHECK(v["A"].message == "erp E1 at 2026-03-14T10:27:00Z is 5 min after shop at 2026-03-14T10:22:00Z (at least 10 min)");
  CHECK(v["A"].expected == ">= 10 min");
  CHECK(v["A"].delta == "5 min");
  CHECK(v["B"].outcome == Outcome::Pass);  // 30 min before, either direction
  r.direction = TimeDirection::RightAfter;
  CHECK(f.run(r)["B"].message ==
        "erp E2 at 2026-03-14T10:52:00Z is 30 min before shop at 2026-03-14T11:22:00Z (expected after, within 40 min)");
  r.direction = TimeDirection::RightBefore;
  CHECK(f.run(r)["B"].outcome == Outcome::Pass);
  CHECK(f.run(r)["A"].outcome == Outcome::Fail);

  // One refund posted in two parts: each pair would compare 0 -> 50 min; the earliest posting counts.
  Fixture g;
  g.add(g.left, {"S1", "K", 1, 0});
  g.add(g.right, {"E1", "K", 1, 20});
  g.add(g.right, {"E2", "K", 1, 50});
  RuleSpec w = rule_of(RuleKind::Within);
  w.left_field = w.right_field = "at";
  w.minutes = literal("30");
  CHECK(g.run(w)["K"].outcome == Outcome::Fail);
  w.anchor = "earliest";
  CHECK(g.run(w)["K"].outcome == Outcome::Pass);
  w.anchor = "latest";
  CHECK(g.run(w)["K"].message == "erp E2 at 2026-03-14T11:12:00Z is 50 min after shop at 2026-03-14T10:22:00Z (limit 30 min)");
}

TEST_CASE("within: calendar days in a zone, across a DST change") {
  // 2026-03-07 23:30 in New York (EST) and 2026-03-09 00:30 (EDT) are 24 hours apart but
  // two calendar days there, and one day apart in UTC.
  constexpr int64_t kBefore = (1'772'944'200LL - 1'773'483'720LL) / 60;  // minutes from kT0 to 2026-03-08T04:30:00Z
  Fixture f;
  f.add(f.left, {"S1", "A", 1, kBefore});
  f.add(f.right, {"E1", "A", 1, kBefore + 24 * 60});
  RuleSpec r = rule_of(RuleKind::Within);
  r.left_field = r.right_field = "at";
  r.days = literal("1");
  r.zone = "America/New_York";
  CHECK(f.run(r)["A"].message ==
        "erp E1 at 2026-03-09T04:30:00Z is 2 days after shop at 2026-03-08T04:30:00Z (limit 1 day) (calendar days in "
        "America/New_York)");
  CHECK(f.run(r)["A"].delta == "1 day");
  r.zone = "UTC";
  CHECK(f.run(r)["A"].outcome == Outcome::Pass);
  r.zone = "Mars/Olympus";
  CHECK_THROWS_WITH_AS(f.run(r), doctest::Contains("unknown time zone 'Mars/Olympus'"), UserError);
  r.zone = "UTC";
  r.days = literal("1.5");
  CHECK_THROWS_WITH_AS(f.run(r), "stack.lua:7: rule 'within' days counts calendar days: a whole number of at least 0, found 1.5",
                       UserError);
}

TEST_CASE("value_in and value_not_in: one side's value checked against a set, with the money at stake") {
  Fixture f;
  f.right_sys.amount_field = "amount";
  f.add(f.left, {"S1", "A", 5000, 0});
  f.add(f.right, {"E1", "A", 5000, 0, "Voided"});
  f.add(f.left, {"S2", "B", 2500, 0});
  f.add(f.right, {"E2", "B", 2500, 0, "refunded "});
  f.add(f.left, {"S3", "C", 100, 0});
  RuleSpec in = rule_of(RuleKind::ValueIn);
  in.side = Side::Right;
  in.field = "status";
  in.values = {"Refunded", "Pending Approval"};
  auto v = f.run(in);
  CHECK(v["A"].message == "erp E1 status is 'Voided', not one of 'Refunded', 'Pending Approval'");
  CHECK(v["A"].delta == "-50.00 USD");  // a right record that does not count: money missing there
  CHECK(v["B"].outcome == Outcome::Fail);
  CHECK(v["C"].outcome == Outcome::Skip);
  in.ignore_case = in.trim = true;
  CHECK(f.run(in)["B"].outcome == Outcome::Pass);
  RuleSpec out = rule_of(RuleKind::ValueNotIn);
  out.side = Side::Right;
  out.field = "status";
  out.values = {"Voided"};
  auto w = f.run(out);
  CHECK(w["A"].message == "erp E1 status is 'Voided', one of 'Voided'");
  CHECK(w["A"].expected == "none of 'Voided'");
  CHECK(w["B"].outcome == Outcome::Pass);
}

TEST_CASE("ledger_equal: entries pair by amount and time, so same-day reordering and date-only postings stay clean") {
  Fixture f;
  f.rec.cardinality = Cardinality::ManyToMany;
  // The platform: a load at 10:22, a redemption at 10:52, both on 2026-03-14. The ERP posts
  // the redemption first, and dates both postings without a time (midnight).
  constexpr int64_t kMidnight = -(10 * 60 + 22);  // minutes from kT0 to 2026-03-14T00:00:00Z
  f.add(f.left, {"P1", "GC-1", 10000, 0});
  f.add(f.left, {"P2", "GC-1", -2500, 30});
  f.add(f.right, {"J2", "GC-1", -2500, kMidnight});
  f.add(f.right, {"J1", "GC-1", 10000, kMidnight});
  // GC-2: the redemption is missing from the ERP; the load was posted.
  f.add(f.left, {"P3", "GC-2", 4000, 0});
  f.add(f.left, {"P4", "GC-2", -1000, 5});
  f.add(f.right, {"J3", "GC-2", 4000, kMidnight});
  RuleSpec r = rule_of(RuleKind::LedgerEqual);
  r.left_field = r.right_field = "amount";
  r.left_time = r.right_time = "at";
  auto v = f.run(r);
  CHECK(v["GC-1"].outcome == Outcome::Pass);  // by position it failed at entry 1: +100.00 against -25.00
  CHECK(v["GC-2"].message ==
        "ledgers part ways at entry 2: shop P4 (2026-03-14T10:27:00Z, -10.00 USD) has no erp entry; balances agreed at "
        "40.00 USD before it; final balance shop 30.00 USD, erp 40.00 USD");
  // A window bounds how far apart paired entries may be: 10 minutes is too tight for midnight postings.
  r.window_minutes = literal("10");
  CHECK(f.run(r)["GC-1"].message ==
        "ledgers part ways at entry 1: erp J1 (2026-03-14T00:00:00Z, 100.00 USD) has no shop entry; balances agreed at "
        "0.00 USD before it; final balance shop 75.00 USD, erp 75.00 USD");
  r.window_minutes = literal("1440");
  CHECK(f.run(r)["GC-1"].outcome == Outcome::Pass);
}

TEST_CASE("ledger_equal: entries pair by declared entry ids, and a paired entry with another amount is named") {
  Fixture f;
  f.rec.cardinality = Cardinality::ManyToMany;
  // status holds the activity id on the platform and the memo id in the ERP.
  f.add(f.left, {"P1", "GC-1", 5000, 0, "ACT-1"});
  f.add(f.left, {"P2", "GC-1", 5000, 1, "ACT-2"});
  f.add(f.right, {"J1", "GC-1", 5000, 3, "ACT-2"});
  f.add(f.right, {"J2", "GC-1", 4500, 2, "ACT-1"});  // ACT-1 keyed in as 45.00
  RuleSpec r = rule_of(RuleKind::LedgerEqual);
  r.left_field = r.right_field = "amount";
  r.left_time = r.right_time = "at";
  r.left_entry = r.right_entry = "status";
  CHECK(f.run(r)["GC-1"].message ==
        "ledgers part ways at entry 1: shop P1 (2026-03-14T10:22:00Z, 50.00 USD) and erp J2 (2026-03-14T10:24:00Z, "
        "45.00 USD) differ; balances agreed at 0.00 USD before it; final balance shop 100.00 USD, erp 95.00 USD");
  r.left_entry = r.right_entry = "";  // by amount and time, P1 takes the 50.00 and P2 finds none
  CHECK(f.run(r)["GC-1"].message ==
        "ledgers part ways at entry 2: shop P2 (2026-03-14T10:23:00Z, 50.00 USD) has no erp entry; balances agreed at "
        "50.00 USD before it; final balance shop 100.00 USD, erp 95.00 USD");
}
