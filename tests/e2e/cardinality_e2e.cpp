// A declared cardinality is enforced by the real binary: a key held twice gets a verdict of
// its own naming every record with file:line, one_to_one groups are paired by best fit so
// amount, equal and within judge the right partners, and the rest is named as extra.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// shop.csv and erp.csv share the key `ref`; `reconcile` is the body under test.
void write_stack(const TempDir& dir, const std::string& cardinality, const std::string& rules, const std::string& shop,
                 const std::string& erp) {
  write_file(dir / "c/stack.lua", R"(stack "cards"
system "shop" { source = csv { path = "shop.csv" }, id = "id",
  fields = { id = "id", ref = "ref", amount = money { column = "amount", currency = "USD" },
             at = time { column = "at", format = "iso8601" }, reason = "reason" } }
system "erp" { source = csv { path = "erp.csv" }, id = "id",
  fields = { id = "id", ref = "ref", amount = money { column = "amount", currency = "USD" },
             at = time { column = "at", format = "iso8601" }, reason = "reason" } }
reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "ref", right = "ref", cardinality = ")" + cardinality + R"(" },
  rules = { )" + rules + R"( },
}
)");
  write_file(dir / "c/shop.csv", "id,ref,amount,at,reason\n" + shop);
  write_file(dir / "c/erp.csv", "id,ref,amount,at,reason\n" + erp);
}

const std::string kRules =
    R"(amount_equal { field = "amount" }, equal { field = "reason" }, within { left = "at", right = "at", minutes = 60 })";

std::vector<std::string> verdicts(const TempDir& dir) {
  Db db(dir / "c/seam.db", false);
  return rows(db, "SELECT group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position");
}

}  // namespace

TEST_CASE("e2e cardinality: a 2x2 one_to_one group is named, paired by amount, and judged pair by pair") {
  TempDir dir;
  // R1 is held twice on both sides; by position S1 would meet E1 (25.00) and every rule fail.
  write_stack(dir, "one_to_one", kRules,
              "S1,R1,10.00,2026-03-01T10:00:00Z,damaged\nS2,R1,25.00,2026-03-01T11:00:00Z,late\n"
              "S3,R2,5.00,2026-03-01T12:00:00Z,late\n",
              "E1,R1,25.00,2026-03-01T11:20:00Z,late\nE2,R1,10.00,2026-03-01T10:05:00Z,damaged\n"
              "E3,R2,5.00,2026-03-01T12:01:00Z,late\n");
  auto r = run_seam(dir.path(), "run c");
  CHECK(r.exit == 1);
  CHECK(verdicts(dir) ==
        std::vector<std::string>{
            "R1|amount equal|pass|", "R1|reason equal|pass|", "R1|lag at -> at|pass|",
            "R1|cardinality|fail|key R1: 2 shop records where one_to_one allows one: S1 (shop.csv:2), S2 (shop.csv:3); "
            "2 erp records where one_to_one allows one: E1 (erp.csv:2), E2 (erp.csv:3); paired by closest amount, then "
            "time, then input order: S1 (shop.csv:2) with E2 (erp.csv:3), S2 (shop.csv:3) with E1 (erp.csv:2)",
            "R2|amount equal|pass|", "R2|reason equal|pass|", "R2|lag at -> at|pass|", "R2|cardinality|pass|"});
  Db db(dir / "c/seam.db", false);
  // The group lists its records pair by pair; the exception carries expected and actual.
  CHECK(rows(db, "SELECT left_ids, right_ids FROM groups WHERE group_key = 'R1'") ==
        std::vector<std::string>{"[\"S1\",\"S2\"]|[\"E2\",\"E1\"]"});
  CHECK(rows(db, "SELECT rule, severity, expected, actual FROM exceptions") ==
        std::vector<std::string>{"cardinality|high|1 shop record, 1 erp record|2 shop records, 2 erp records"});
  // The catalog shows the rule seam added, and what it checks.
  CHECK(rows(db, "SELECT name, kind, doc FROM rules WHERE name = 'cardinality'") ==
        std::vector<std::string>{"cardinality|cardinality|at most one shop and one erp record per key (cardinality one_to_one)"});
}

TEST_CASE("e2e cardinality: a 3x2 group leaves the worst fit without a partner, and a pair that differs still fails") {
  TempDir dir;
  write_stack(dir, "one_to_one", kRules,
              "S1,R1,10.00,2026-03-01T10:00:00Z,damaged\nS2,R1,40.00,2026-03-01T10:00:00Z,late\n"
              "S3,R1,25.00,2026-03-01T10:00:00Z,late\n",
              "E1,R1,25.00,2026-03-01T10:10:00Z,lost\nE2,R1,10.50,2026-03-01T10:10:00Z,damaged\n");
  CHECK(run_seam(dir.path(), "run c").exit == 1);
  CHECK(verdicts(dir) ==
        std::vector<std::string>{
            "R1|amount equal|fail|erp E2 amount 10.50 USD differs from shop S1 amount 10.00 USD by 0.50 USD "
            "(tolerance 0)",
            "R1|reason equal|fail|erp E1 reason is 'lost', expected 'late'", "R1|lag at -> at|pass|",
            "R1|cardinality|fail|key R1: 3 shop records where one_to_one allows one: S1 (shop.csv:2), S2 (shop.csv:3), "
            "S3 (shop.csv:4); 2 erp records where one_to_one allows one: E1 (erp.csv:2), E2 (erp.csv:3); paired by "
            "closest amount, then time, then input order: S1 (shop.csv:2) with E2 "
            "(erp.csv:3), S3 (shop.csv:4) with E1 (erp.csv:2); no partner: shop S2 (shop.csv:3)"});
}

TEST_CASE("e2e cardinality: a key held twice on the right only, and a unique rule on the key checks that side instead") {
  TempDir dir;
  write_stack(dir, "one_to_one", R"(amount_equal { field = "amount" })", "S1,R1,10.00,2026-03-01T10:00:00Z,x\n",
              "E1,R1,12.00,2026-03-01T10:00:00Z,x\nE2,R1,10.00,2026-03-01T10:30:00Z,x\n");
  CHECK(run_seam(dir.path(), "run c").exit == 1);
  CHECK(verdicts(dir) ==
        std::vector<std::string>{"R1|amount equal|pass|",
                                 "R1|cardinality|fail|key R1: 2 erp records where one_to_one allows one: E1 (erp.csv:2), "
                                 "E2 (erp.csv:3); paired by closest amount, then time, then input order: S1 (shop.csv:2) "
                                 "with E2 (erp.csv:3); no partner: erp E1 (erp.csv:2)"});
  // With unique on the right key the duplicate is that rule's to report; cardinality checks the left only.
  TempDir dir2;
  write_stack(dir2, "one_to_one", R"(amount_equal { field = "amount" }, unique { "right", name = "posted once" })",
              "S1,R1,10.00,2026-03-01T10:00:00Z,x\n",
              "E1,R1,12.00,2026-03-01T10:00:00Z,x\nE2,R1,10.00,2026-03-01T10:30:00Z,x\n");
  CHECK(run_seam(dir2.path(), "run c").exit == 1);
  CHECK(verdicts(dir2) ==
        std::vector<std::string>{"R1|amount equal|pass|",
                                 "R1|posted once|fail|ref 'R1' appears 2 times in erp: E1, E2; E2 (erp.csv:3) repeats "
                                 "E1 (erp.csv:2)",
                                 "R1|cardinality|pass|"});
  Db db(dir2 / "c/seam.db", false);
  CHECK(rows(db, "SELECT doc FROM rules WHERE name = 'cardinality'") ==
        std::vector<std::string>{"at most one shop record per key (cardinality one_to_one)"});
}

TEST_CASE("e2e cardinality: one_to_many allows many on the right, not two on the left, and many_to_many adds no rule") {
  TempDir dir;
  write_stack(dir, "one_to_many", R"(amount_equal { field = "amount" })",
              "S1,R1,10.00,2026-03-01T10:00:00Z,x\nS2,R1,5.00,2026-03-01T10:00:00Z,x\nS3,R2,7.00,2026-03-01T10:00:00Z,x\n",
              "E1,R1,10.00,2026-03-01T10:00:00Z,x\nE2,R2,3.00,2026-03-01T10:00:00Z,x\nE3,R2,4.00,2026-03-01T10:00:00Z,x\n");
  CHECK(run_seam(dir.path(), "run c").exit == 1);
  auto v = verdicts(dir);
  REQUIRE(v.size() == 4);
  CHECK(v[1] == "R1|cardinality|fail|key R1: 2 shop records where one_to_many allows one: S1 (shop.csv:2), S2 (shop.csv:3)");
  CHECK(v[2] == "R2|amount equal|pass|");  // 7.00 against 3.00 + 4.00
  CHECK(v[3] == "R2|cardinality|pass|");
  TempDir dir2;
  write_stack(dir2, "many_to_many", R"(amount_equal { field = "amount" })", "S1,R1,10.00,2026-03-01T10:00:00Z,x\n"
              "S2,R1,5.00,2026-03-01T10:00:00Z,x\n", "E1,R1,15.00,2026-03-01T10:00:00Z,x\n");
  CHECK(run_seam(dir2.path(), "run c").exit == 0);
  CHECK(verdicts(dir2) == std::vector<std::string>{"R1|amount equal|pass|"});
}

TEST_CASE("e2e cardinality: the rule name is taken, and seam check says where") {
  TempDir dir;
  write_stack(dir, "one_to_one", R"(amount_equal { field = "amount", name = "cardinality" })",
              "S1,R1,10.00,2026-03-01T10:00:00Z,x\n", "E1,R1,10.00,2026-03-01T10:00:00Z,x\n");
  auto c = run_seam(dir.path(), "check c");
  CHECK(c.exit == 2);
  CHECK(c.err ==
        "seam: error: c/stack.lua:11: rule name 'cardinality' is taken by the check seam adds for reconcile 'r''s "
        "declared cardinality (one_to_one); give this rule another name = \"...\"\n");
}
