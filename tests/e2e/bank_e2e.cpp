// examples/bank end to end: a bank statement against ERP cash receipts that share no id,
// matched by five strategies in priority order (the last one by sum). Every group, the strategy that formed it,
// every failing verdict, the trace, and the same pairs whatever the order of the inputs.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

struct Bank {
  TempDir dir;
  std::string stack = dir / "bank";
  Bank() { copy_example("bank", stack); }
  Invocation seam(const std::string& args) { return run_seam(dir.path(), args, "SEAM_NOW=2026-03-20T12:00:00Z"); }
  std::vector<std::string> groups(int reconcile_no = 0) {
    Db db(stack + "/seam.db", false);
    return rows(db, "SELECT group_key, left_ids, right_ids, coalesce(matched_by, '-') FROM groups "
                    "WHERE run_id = (SELECT max(id) FROM runs) AND reconcile_no = " + std::to_string(reconcile_no) +
                    " ORDER BY group_no");
  }
};

// Header kept, data lines in reverse order.
void reverse_lines(const std::string& path, bool has_header) {
  auto lines = lines_of(read_file(path));
  auto from = lines.begin() + (has_header ? 1 : 0);
  std::reverse(from, lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  write_file(path, out);
}

}  // namespace

TEST_CASE("e2e bank: every bank line finds its receipt by the first strategy that can, and says which") {
  Bank b;
  auto run = b.seam("run bank");
  CHECK(run.exit == 1);
  CHECK(b.groups() ==
        std::vector<std::string>{
            "123|[\"BNK-001\"]|[\"RC-1\"]|invoice number",
            "456|[\"BNK-002\"]|[\"RC-2\"]|invoice number",
            "BNK-003|[\"BNK-003\"]|[\"RC-3\"]|amount and date (same amount, 1 day later)",
            "BNK-004|[\"BNK-004\"]|[\"RC-4\"]|amount within fees (29.10 USD more on the right, 1 day earlier)",
            "1044|[\"BNK-005\"]|[]|-",
            "321|[\"BNK-006\"]|[\"RC-7\"]|invoice number",
            "BNK-007|[\"BNK-007\"]|[\"RC-9\"]|amount and date (same amount, same day)",
            "BNK-008|[\"BNK-008\"]|[\"RC-8\"]|amount and date (same amount, same day)",
            "BNK-009|[\"BNK-009\"]|[\"RC-12\"]|amount, date and payer (same amount, 1 day later, reference 100.0 % similar)",
            "BNK-010|[\"BNK-010\"]|[\"RC-11\"]|amount, date and payer (same amount, 1 day later, reference 93.8 % similar)",
            "BNK-011|[\"BNK-011\"]|[\"RC-13\",\"RC-14\",\"RC-15\"]|checks deposited together (same amount, sum of 3 "
            "records, 1 day earlier)",
            "777|[]|[\"RC-6\"]|-",
        });
  Db db(b.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT group_key, rule, match_strategy, delta FROM failures WHERE reconcile = 'cash_receipts' "
                 "ORDER BY group_no") ==
        std::vector<std::string>{"BNK-004|amount equal|amount within fees|29.10 USD",
                                 "1044|receipt in the ERP||-250.00 USD",
                                 "321|amount equal|invoice number|60.00 USD",
                                 "777|deposit in the bank||88.00 USD"});
  // The processor's payout report against the bank: one payout arrived (the line the first
  // reconciliation matched to its receipt within fees), one never did.
  CHECK(b.groups(1) ==
        std::vector<std::string>{
            "po_1NQ3xK|[\"po_1NQ3xK\"]|[\"BNK-004\"]|amount, date and descriptor (same amount, same day, reference "
            "contained)",
            "po_1NR8aB|[\"po_1NR8aB\"]|[]|-", "BNK-001|[]|[\"BNK-001\"]|-", "BNK-002|[]|[\"BNK-002\"]|-",
            "BNK-003|[]|[\"BNK-003\"]|-", "BNK-005|[]|[\"BNK-005\"]|-", "BNK-006|[]|[\"BNK-006\"]|-",
            "BNK-007|[]|[\"BNK-007\"]|-", "BNK-008|[]|[\"BNK-008\"]|-", "BNK-009|[]|[\"BNK-009\"]|-",
            "BNK-010|[]|[\"BNK-010\"]|-", "BNK-011|[]|[\"BNK-011\"]|-"});
  CHECK(rows(db, "SELECT group_key, rule, message, delta FROM failures WHERE reconcile = 'payouts_reach_bank'") ==
        std::vector<std::string>{"po_1NR8aB|payout in the bank|no bank record with key po_1NR8aB for payouts "
                                 "po_1NR8aB|-1245.00 USD"});
  CHECK(rows(db, "SELECT strategy_no, name FROM run_strategies WHERE reconcile_no = 0 ORDER BY strategy_no") ==
        std::vector<std::string>{"0|invoice number", "1|amount, date and payer", "2|amount and date",
                                 "3|amount within fees", "4|checks deposited together"});
  CHECK(run.out.find("reconcile cash_receipts (bank -> erp): 12 groups, 48 verdicts: 40 pass, 4 fail, 4 skip") !=
        std::string::npos);
  auto trace = b.seam("trace RC-4 --stack bank");
  CHECK(trace.exit == 0);
  CHECK(trace.out.find("  left: BNK-004   right: RC-4\n"
                       "  matched by amount within fees (29.10 USD more on the right, 1 day earlier)\n") !=
        std::string::npos);
  CHECK(b.seam("audit verify --stack bank").exit == 0);
  // The strategy and its distances are sealed with the group.
  db.exec("DROP TRIGGER group_blocks_no_update");
  db.exec("UPDATE group_blocks SET groups = replace(groups, '29.10 USD more', '0.10 USD more')");
  CHECK(b.seam("audit verify --stack bank").out.find("run 1: TAMPERED: verdict rows do not match") != std::string::npos);
}

TEST_CASE("e2e bank: the same pairs whatever the order of the exports") {
  Bank b;
  reverse_lines(b.stack + "/data/bank_statement.csv", true);
  reverse_lines(b.stack + "/data/erp_cash_receipts.ndjson", false);
  CHECK(b.seam("run bank").exit == 1);
  auto g = b.groups();
  std::sort(g.begin(), g.end());
  Bank in_order;
  CHECK(in_order.seam("run bank").exit == 1);
  auto expected = in_order.groups();
  std::sort(expected.begin(), expected.end());
  CHECK(g == expected);
}

TEST_CASE("e2e bank: a strategy that cannot work is refused by seam check at the reconcile's line") {
  Bank b;
  std::string stack = read_file(b.stack + "/stack.lua");
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = stack;
    s.replace(s.find(from), from.size(), to);
    write_file(b.stack + "/stack.lua", s);
    return b.seam("check bank");
  };
  auto similar_only = edit("amount = { field = \"amount\" },\n      time = { left = \"date\", right = \"deposited\", max = "
                           "param \"deposit_days\", unit = \"days\", zone = \"America/New_York\" },\n      reference",
                           "reference");
  CHECK(similar_only.exit == 2);
  CHECK(similar_only.err ==
        "seam: error: bank/stack.lua:57: reconcile 'cash_receipts' match strategy 'amount, date and payer': a keyless "
        "strategy needs an amount or a time criterion (or an equal reference) to bound its candidates; a contains or "
        "similarity reference alone would compare every record with every other\n");
  auto typo = edit("amount = { field = \"amount\", tolerance_pct", "amount = { field = \"amuont\", tolerance_pct");
  CHECK(typo.exit == 2);
  CHECK(typo.err.find("bank/stack.lua:57: reconcile 'cash_receipts' match strategy 'amount within fees' reads amount "
                      "field 'amuont', which system 'bank' does not declare (did you mean 'amount'?)") != std::string::npos);
  auto both = edit("{ name = \"amount and date\",", "{ name = \"amount and date\", left = \"ref\",");
  CHECK(both.exit == 2);
  CHECK(both.err.find("reconcile \"cash_receipts\" match[3] joins on keys (left, right) and also names criteria") !=
        std::string::npos);
  auto zone_without_days = edit("max = 2, unit = \"days\", zone", "max = 2, zone");
  CHECK(zone_without_days.exit == 2);
  CHECK(zone_without_days.err.find("match[4].time.zone counts calendar days: it needs unit = \"days\"") !=
        std::string::npos);
}

TEST_CASE("e2e bank: a sum search its bound stopped says so in the verdict, and a sum needs a cardinality that allows it") {
  Bank b;
  std::string stack = read_file(b.stack + "/stack.lua");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = stack;
    s.replace(s.find(from), from.size(), to);
    write_file(b.stack + "/stack.lua", s);
  };
  // Three receipts lie within the window of BNK-011; looking at two cannot find the sum.
  with("sum = \"right\", max_records = 5,", "sum = \"right\", max_records = 5, max_candidates = 2,");
  CHECK(b.seam("run bank").exit == 1);
  Db db(b.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT message FROM failures WHERE group_key = 'BNK-011'") ==
        std::vector<std::string>{
            "no erp record with key BNK-011 for bank BNK-011; the sum search of match strategy 'checks deposited "
            "together' stopped at its bound (max_candidates = 2, 100000 subsets) before it found records adding up to "
            "this one; narrow the time window or raise max_candidates"});
  with("cardinality = \"one_to_many\",", "cardinality = \"one_to_one\",");
  auto c = b.seam("check bank");
  CHECK(c.exit == 2);
  CHECK(c.err == "seam: error: bank/stack.lua:57: reconcile 'cash_receipts' match strategy 'checks deposited together' "
                 "sums erp records, which cardinality one_to_one allows one of per group; declare cardinality = "
                 "\"one_to_many\" (or many_to_many)\n");
}
