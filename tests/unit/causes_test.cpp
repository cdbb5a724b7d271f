// Declared root causes: an exception's stake, which candidate causes can explain an effect
// and how much of it, and the errors a broken caused_by gets.
#include <doctest/doctest.h>

#include "engine/audit/causes.hpp"
#include "engine/audit/chain.hpp"
#include "engine/audit/schema.hpp"
#include "engine/run/causes.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

const CurrencyCode kUsd = pack_currency("USD"), kEur = pack_currency("EUR");

Stake usd(int64_t minor) { return {minor, kUsd}; }

std::string scalar_text(Db& db, const std::string& sql) {
  Statement s(db, sql);
  REQUIRE(s.step());
  return s.text_at(0);
}

std::string links(const Explanation& e) {
  std::string out;
  for (const auto& l : e.links)
    out += (out.empty() ? "" : ", ") + std::to_string(l.cause_id) + ":" +
           (l.explains ? std::to_string(*l.explains) : std::string("-"));
  return out;
}

}  // namespace

TEST_CASE("causes: an exception's stake is its delta, else right minus left, else unknown") {
  auto s = exception_stake("-50.00 USD", true, 100, 0, kUsd);
  REQUIRE(s);
  CHECK(s->amount == -5000);
  CHECK(s->currency == kUsd);
  s = exception_stake("28", false, 0, 0, 0);  // quantity_equal: base units
  REQUIRE(s);
  CHECK(s->amount == 28);
  CHECK(s->currency == 0);
  s = exception_stake("", true, -4000, -8000, kUsd);  // a duplicate posting has no delta
  REQUIRE(s);
  CHECK(s->amount == -4000);
  s = exception_stake("105 min", true, 1000, 1250, kEur);
  REQUIRE(s);
  CHECK(s->amount == 250);
  CHECK(s->currency == kEur);
  CHECK_FALSE(exception_stake("105 min", false, 0, 0, 0));
  // A quantity rule's count in the stack's base unit: a stake in that unit, which explains
  // only counts in the same unit.
  s = exception_stake("-24 each", false, 0, 0, 0);
  REQUIRE(s);
  CHECK(s->amount == -24);
  CHECK(s->unit == "each");
  auto e = explain_effect(Stake{-30, 0, "each"}, {{1, Stake{-24, 0, "each"}}, {2, Stake{-6, 0, "case"}}}, "same_sign");
  CHECK(e.explained == 24);
  CHECK(e.links.size() == 1);
  CHECK_FALSE(exception_stake("", true, INT64_MIN, 1, kUsd));  // beyond int64: not known
  CHECK(format_stake(-5000, kUsd) == "-50.00 USD");
  CHECK(format_stake(28, 0) == "28");
}

TEST_CASE("causes: a cause is linked only when its sign can explain the effect's") {
  // A balance 80.00 too low on the right: missing loads (negative) explain it, an extra
  // posting (positive) cannot.
  auto e = explain_effect(usd(-8000), {{7, usd(-3000)}, {4, usd(2000)}}, "same_sign");
  CHECK(links(e) == "7:3000");
  CHECK(e.measured);
  CHECK(e.of == 8000);
  CHECK(e.explained == 3000);
  CHECK(e.currency == kUsd);
  e = explain_effect(usd(-8000), {{7, usd(-3000)}, {4, usd(2000)}}, "opposite_sign");
  CHECK(links(e) == "4:2000");
  // Another currency, a count against money, a zero or unknown stake explain nothing.
  e = explain_effect(usd(-8000), {{1, Stake{-3000, kEur}}, {2, Stake{-3, 0}}, {3, usd(0)}, {5, std::nullopt}},
                     "same_sign");
  CHECK(links(e) == "");
  CHECK(e.measured);
  CHECK(e.explained == 0);
  // An effect without a stake can be explained by nothing measurable.
  e = explain_effect(std::nullopt, {{1, usd(-3000)}}, "same_sign");
  CHECK(links(e) == "");
  CHECK_FALSE(e.measured);
  // Counts: a +28 drift is not explained by a double decrement (-5), it is by a lost pick.
  e = explain_effect(Stake{28, 0}, {{1, Stake{-5, 0}}, {2, Stake{12, 0}}}, "same_sign");
  CHECK(links(e) == "2:12");
  CHECK(e.of == 28);
  CHECK(e.explained == 12);
}

TEST_CASE("causes: several causes are summed, oldest first, never beyond the effect") {
  auto e = explain_effect(usd(-8000), {{9, usd(-2000)}, {3, usd(-3000)}}, "same_sign");
  CHECK(links(e) == "3:3000, 9:2000");
  CHECK(e.explained == 5000);
  CHECK(e.of - e.explained == 3000);
  // More than enough: the later cause explains what remains, the last one nothing.
  e = explain_effect(usd(-5000), {{1, usd(-3000)}, {2, usd(-4000)}, {3, usd(-100)}}, "same_sign");
  CHECK(links(e) == "1:3000, 2:2000, 3:0");
  CHECK(e.explained == 5000);
  // "any": every candidate, nothing measured.
  e = explain_effect(usd(-5000), {{2, usd(4000)}, {1, std::nullopt}}, "any");
  CHECK(links(e) == "1:-, 2:-");
  CHECK_FALSE(e.measured);
}

namespace {

const char* kStack = R"(stack "cards"
system "activity" {
  source = csv { path = "activity.csv" }, id = "id", amount = "amount",
  fields = { id = "id", card = "card", amount = money { column = "amount", currency = "USD" } },
}
system "ledger" {
  source = csv { path = "ledger.csv" }, id = "doc", amount = "amount",
  fields = { doc = "doc", card = "card", load_id = "load_id", amount = money { column = "amount", currency = "USD" } },
}
reconcile "loads" {
  left = "activity", right = "ledger", match = { left = "id", right = "load_id" },
  rules = { exists_in { "right", name = "load in the ledger" } },
}
reconcile "cards" {
  left = "activity", right = "ledger", match = { left = "card", right = "card", cardinality = "many_to_many" },
  rules = {
    amount_equal { field = "amount", name = "balance",
                   caused_by = { reconcile = "loads", rule = "load in the ledger", via = "left.id" } },
  },
}
)";

std::string check_with(const std::string& from, const std::string& to) {
  std::string stack = kStack;
  REQUIRE(stack.find(from) != std::string::npos);
  stack.replace(stack.find(from), from.size(), to);
  TempDir dir;
  write_file(dir / "stack.lua", stack);
  try {
    check_stack(dir.path(), {});
  } catch (const UserError& e) {
    return seam::test::with_dir_as_DIR(e.what(), dir.path());
  }
  return "(valid)";
}

}  // namespace

TEST_CASE("causes: caused_by via and explains are checked, with file:line") {
  CHECK(check_with("", "") == "(valid)");
  CHECK(check_with("via = \"left.id\"", "via = \"load_id\"") == "(valid)");  // either side: the ledger has it
  CHECK(check_with("via = \"left.id\"", "via = \"left.load_id\"") ==
        "DIR/stack.lua:17: rule 'balance' is caused_by via 'left.load_id', which system 'activity' does not declare "
        "(via names a field of reconcile 'cards' holding the key of reconcile 'loads')");
  CHECK(check_with("via = \"left.id\"", "via = \"right.lod_id\"") ==
        "DIR/stack.lua:17: rule 'balance' is caused_by via 'right.lod_id', which system 'ledger' does not declare "
        "(did you mean 'load_id'?) (via names a field of reconcile 'cards' holding the key of reconcile 'loads')");
  CHECK(check_with("via = \"left.id\"", "via = \"activity_id\"") ==
        "DIR/stack.lua:17: rule 'balance' is caused_by via 'activity_id', which neither system 'activity' nor system "
        "'ledger' declares (via names a field of reconcile 'cards' holding the key of reconcile 'loads'; write "
        "left.FIELD or right.FIELD to read one side)");
  CHECK(check_with("via = \"left.id\"", "via = \"left.id\", explains = \"same\"") ==
        "DIR/stack.lua:17: amount_equal { caused_by = { explains = ... } } must be same_sign, opposite_sign or any, "
        "found 'same'");
  CHECK(check_with("via = \"left.id\"", "via = \"left.id\", because = 1") ==
        "DIR/stack.lua:17: amount_equal { caused_by = ... } has no option 'because' (options: reconcile, rule, via, "
        "explains)");
  CHECK(check_with("rule = \"load in the ledger\", via", "rule = \"load in ledger\", via") ==
        "DIR/stack.lua:17: rule 'balance' is caused_by rule 'load in ledger' of reconcile 'loads', which has no such "
        "rule (rules: load in the ledger, cardinality)");
  // Without a rule: any rule of that reconciliation.
  CHECK(check_with("rule = \"load in the ledger\", ", "") == "(valid)");
  // Several causes, each checked on its own, the faulty one named by its place in the list.
  const std::string one = "caused_by = { reconcile = \"loads\", rule = \"load in the ledger\", via = \"left.id\" }";
  CHECK(check_with(one, "caused_by = { { reconcile = \"loads\", via = \"left.id\" }, { reconcile = \"loads\" } }") ==
        "(valid)");
  CHECK(check_with(one, "caused_by = { { reconcile = \"loads\", via = \"left.id\" }, { reconcile = \"lods\" } }") ==
        "DIR/stack.lua:17: rule 'balance' is caused_by reconcile 'lods', which is not declared");
  CHECK(check_with(one, "caused_by = { { reconcile = \"loads\" }, { reconcile = \"loads\", why = 1 } }") ==
        "DIR/stack.lua:17: amount_equal { caused_by = { ..., [2] = ... } has no option 'why' (options: reconcile, rule, "
        "via, explains)");
  CHECK(check_with(one, "caused_by = { { reconcile = \"loads\" }, \"loads\" }") ==
        "DIR/stack.lua:17: amount_equal { caused_by = { ..., [2] = ... } expects a table { ... }, found string");
}

TEST_CASE("causes: with several causes, each explains with its own sign and one exception explains once") {
  auto usd = [](int64_t v) { return Stake{v, pack_currency("USD")}; };
  // A card balance 90.00 too low: a missing load (-50.00, same sign) and a redemption posted
  // twice (+40.00 in a reconciliation that holds the truth on the other side: opposite sign).
  auto e = explain_effect(usd(-9000), {{1, usd(-5000), "same_sign"}, {2, usd(4000), "opposite_sign"}}, "same_sign");
  CHECK(e.measured);
  CHECK(e.explained == 9000);
  REQUIRE(e.links.size() == 2);
  CHECK(*e.links[1].explains == 4000);
  // The same exception named by two causes explains once.
  e = explain_effect(usd(-9000), {{1, usd(-5000), "same_sign"}, {1, usd(-5000), "same_sign"}}, "same_sign");
  CHECK(e.links.size() == 1);
  CHECK(e.explained == 5000);
  // An "any" cause is linked and measures nothing; the signed ones still measure.
  e = explain_effect(usd(-9000), {{1, usd(-5000), "same_sign"}, {3, std::nullopt, "any"}}, "same_sign");
  CHECK(e.measured);
  CHECK(e.explained == 5000);
  REQUIRE(e.links.size() == 2);
  CHECK(!e.links[1].explains);
}

TEST_CASE("causes: a log upgraded to schema v6 matches the chain entry sealed before, and a link row is state") {
  TempDir dir;
  Db db(dir / "seam.db", true);
  migrate_audit_schema(db, 5);  // a v5 log: its chain started, nothing linked
  REQUIRE(scalar_text(db, "SELECT count(*) FROM chain") == "1");
  migrate_audit_schema(db);
  CHECK(scalar_text(db, "PRAGMA user_version") == std::to_string(kAuditSchemaVersion));
  CHECK(scalar_text(db, "SELECT count(*) FROM chain") == "1");  // the upgrade changes no sealed state
  CHECK_NOTHROW(require_sealed_state(db));
  db.exec("PRAGMA foreign_keys = OFF");
  db.exec("INSERT INTO exception_causes VALUES (2, 1, 500, 'USD')");
  CHECK_THROWS_WITH_AS(require_sealed_state(db),
                       doctest::Contains("(chain started, audit log schema v5, "),
                       TamperedError);
  try {
    require_sealed_state(db);
  } catch (const TamperedError& e) {
    CHECK(std::string(e.what()).find("): exception_causes differ from what it sealed. seam will not write") !=
          std::string::npos);
  }
}

TEST_CASE("causes: the expected sign follows the systems of record's sides unless declared") {
  auto expectation = [](const std::string& from, const std::string& to) {
    std::string stack = kStack;
    REQUIRE(stack.find(from) != std::string::npos);
    stack.replace(stack.find(from), from.size(), to);
    TempDir dir;
    write_file(dir / "stack.lua", stack);
    LoadedStack s = load_stack(dir.path());
    const ReconcileSpec& cards = s.spec.reconciles[1];
    REQUIRE(cards.rules[0].causes.size() == 1);
    return cause_expectation(s.spec, cards, cards.rules[0].causes[0]);
  };
  // Both hold the truth on the left (the default): deltas read the same way round.
  CHECK(expectation("", "") == "same_sign");
  // The cards' truth on the right, the loads' on the left: a load missing from the ledger
  // lowers one delta and raises the other.
  CHECK(expectation("left = \"activity\", right = \"ledger\", match = { left = \"card\"",
                    "left = \"activity\", right = \"ledger\", system_of_record = \"ledger\", match = { left = \"card\"") ==
        "opposite_sign");
  CHECK(expectation("via = \"left.id\"", "via = \"left.id\", explains = \"any\"") == "any");
}

TEST_CASE("causes: via and explains are part of the rule's definition only when declared") {
  TempDir dir;
  write_file(dir / "stack.lua", kStack);
  LoadedStack s = load_stack(dir.path());
  const RuleSpec& balance = s.spec.reconciles[1].rules[0];
  REQUIRE(balance.causes.size() == 1);
  CHECK(balance.causes[0].reconcile == "loads");
  CHECK(balance.causes[0].rule == "load in the ledger");
  CHECK(balance.causes[0].via == "id");
  CHECK(balance.causes[0].via_side == "left");
  CHECK(balance.causes[0].explains == "");
  CHECK(balance.definition.find("\ncaused_by=loads/load in the ledger via=left.id\n") != std::string::npos);
  CHECK(balance.definition.find("explains=") == std::string::npos);
}

TEST_CASE("causes: seam check warns when a cause can never be linked for want of an amount") {
  auto warnings = [](const std::string& stack) {
    TempDir dir;
    write_file(dir / "stack.lua", stack);
    std::vector<std::string> out;
    for (const auto& w : check_stack(dir.path(), {}).warnings)
      out.push_back(seam::test::with_dir_as_DIR(w.str(), dir.path()));
    return out;
  };
  CHECK(warnings(kStack).empty());
  std::string no_amounts = kStack;
  for (size_t p; (p = no_amounts.find(" amount = \"amount\",")) != std::string::npos;) no_amounts.erase(p, 19);
  CHECK(warnings(no_amounts) ==
        std::vector<std::string>{
            "DIR/stack.lua:17: warning: rule 'balance' is caused_by rule 'load in the ledger' of reconcile 'loads' with "
            "explains = same_sign, but rule 'load in the ledger' fails with no amount (it is exists_in and its systems "
            "declare no amount field): no cause will be linked; declare amount = \"FIELD\" on its systems, or explains = "
            "\"any\""});
  std::string any = no_amounts;
  any.replace(any.find("via = \"left.id\""), 15, "via = \"left.id\", explains = \"any\"");
  CHECK(warnings(any).empty());
}
