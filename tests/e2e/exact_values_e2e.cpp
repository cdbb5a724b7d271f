// Values are exact or refused, end to end (issue 11): the real seam binary on real files,
// its audit log read back, every JSON output checked by Python's strict parser.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// shop (CSV) against erp (NDJSON), matched on `key`; `cardinality` as the reconcile says.
std::string stack_text(const char* cardinality) {
  return std::string(R"(stack "exact"
system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  amount = "amount",
  fields = { id = "id", key = "key", amount = money { column = "amount", currency = "USD" } },
}
system "erp" {
  source = ndjson { path = "erp.ndjson" },
  id = "id",
  amount = "amount",
  fields = { id = "id", key = "key", amount = money { column = "amount", currency = "USD" } },
}
reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "key", right = "key", cardinality = ")") +
         cardinality + R"(" },
  rules = {
    exists_in "right",
    amount_equal { field = "amount" },
  },
}
)";
}

void write_stack(const TempDir& dir, const char* cardinality, const std::string& shop_csv, const std::string& erp_ndjson) {
  write_file(dir / "exact/stack.lua", stack_text(cardinality));
  write_file(dir / "exact/shop.csv", shop_csv);
  write_file(dir / "exact/erp.ndjson", erp_ndjson);
}


const std::string kNul("A\0" "1", 3);  // an id with a NUL byte in it
const std::string kBad = "B\xFF";      // an id that is not UTF-8

}  // namespace

TEST_CASE("e2e exact values: an amount sum beyond int64 is an error verdict naming the records, never a pass") {
  TempDir dir;
  // 2 x 5e18 minor units wrap to -8446744073709551616, which is what the erp holds.
  write_stack(dir, "many_to_one", "id,key,amount\nS1,K1,50000000000000000.00\nS2,K1,50000000000000000.00\nS3,K2,1.00\n",
              "{\"id\":\"E1\",\"key\":\"K1\",\"amount\":\"-84467440737095516.16\"}\n"
              "{\"id\":\"E2\",\"key\":\"K2\",\"amount\":\"1.00\"}\n");
  auto r = run_seam(dir.path(), "run exact");
  CHECK(r.exit == 1);
  Db db(dir / "exact/seam.db", false);
  CHECK(rows(db, "SELECT group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position") ==
        std::vector<std::string>{
            "K1|exists in right|pass|",
            "K1|amount equal|error|the sum of amount over shop S1, S2 exceeds the int64 range of minor units "
            "(-9223372036854775808 to 9223372036854775807); check these records' values",
            "K1|cardinality|pass|", "K2|exists in right|pass|", "K2|amount equal|pass|", "K2|cardinality|pass|"});
  CHECK(rows(db, "SELECT group_key, outcome, left_ids, right_ids, left_amount IS NULL FROM exceptions") ==
        std::vector<std::string>{"K1|error|[\"S1\",\"S2\"]|[\"E1\"]|1"});  // no wrapped amounts kept
  CHECK(r.out.find("1 exception (0 fail, 1 error)") != std::string::npos);
  CHECK(run_seam(dir.path(), "audit verify --db exact/seam.db").exit == 0);
}

TEST_CASE("e2e exact values: two sign notations reject the row with the reason, one is read") {
  TempDir dir;
  write_stack(dir, "one_to_one",
              "id,key,amount\nS1,K1,(-25.00)\nS2,K2,-25.00-\nS3,K3,USD -25.00-\nS4,K4,(25.00)\nS5,K5,25.00-\nS6,K6,USD (25.00)\n",
              "{\"id\":\"E4\",\"key\":\"K4\",\"amount\":\"-25.00\"}\n{\"id\":\"E5\",\"key\":\"K5\",\"amount\":\"-25.00\"}\n"
              "{\"id\":\"E6\",\"key\":\"K6\",\"amount\":\"(25.00) USD\"}\n");
  auto r = run_seam(dir.path(), "run exact");
  CHECK(r.exit == 1);
  Db db(dir / "exact/seam.db", false);
  CHECK(rows(db, "SELECT line, reason, raw FROM rejects ORDER BY seq") ==
        std::vector<std::string>{
            "2|cannot read '(-25.00)' as an amount: two sign notations (parentheses and a leading '-'): use one "
            "(field 'amount', column 'amount')|S1,K1,(-25.00)",
            "3|cannot read '-25.00-' as an amount: two sign notations (a leading '-' and a trailing '-'): use one "
            "(field 'amount', column 'amount')|S2,K2,-25.00-",
            "4|cannot read 'USD -25.00-' as an amount: two sign notations (a leading '-' and a trailing '-'): use one "
            "(field 'amount', column 'amount')|S3,K3,USD -25.00-"});
  CHECK(rows(db, "SELECT group_key, outcome FROM verdicts WHERE rule = 'amount equal' ORDER BY group_no") ==
        std::vector<std::string>{"K4|pass", "K5|pass", "K6|pass"});
}

TEST_CASE("e2e exact values: a whitespace-only id or key rejects its row, naming the field and column") {
  TempDir dir;
  write_stack(dir, "one_to_one", "id,key,amount\nS1,K1,1.00\n   ,K2,2.00\nS3,\t,3.00\n",
              "{\"id\":\"E1\",\"key\":\"K1\",\"amount\":\"1.00\"}\n{\"id\":\" \",\"key\":\"K2\",\"amount\":\"2.00\"}\n");
  auto r = run_seam(dir.path(), "run exact");
  CHECK(r.exit == 1);
  Db db(dir / "exact/seam.db", false);
  const std::string what = " holds only whitespace (N characters): expected an id or key with at least one other "
                           "character; fix the export or leave the row out";
  auto with_n = [&](const char* field, const char* column, int n) {
    std::string s = std::string("required field '") + field + "' (column '" + column + "')" + what;
    s.replace(s.find("N characters"), 1, std::to_string(n));
    return s;
  };
  CHECK(rows(db, "SELECT system, line, reason FROM rejects ORDER BY seq") ==
        std::vector<std::string>{"shop|3|" + with_n("id", "id", 3), "shop|4|" + with_n("key", "key", 1),
                                 "erp|2|" + with_n("id", "id", 1)});
  CHECK(rows(db, "SELECT count(*) FROM groups") == std::vector<std::string>{"1"});
}

TEST_CASE("e2e exact values: ids holding ', ' and quotes round-trip through groups, exceptions and trace") {
  TempDir dir;
  write_stack(dir, "one_to_many", "id,key,amount\n\"S, 1\",K1,10.00\n\"S\"\"2\",K2,5.00\n",
              "{\"id\":\"E, 1\",\"key\":\"K1\",\"amount\":\"4.00\"}\n{\"id\":\"E2\",\"key\":\"K1\",\"amount\":\"5.00\"}\n"
              "{\"id\":\"E\\\"3\",\"key\":\"K2\",\"amount\":\"6.00\"}\n");
  auto r = run_seam(dir.path(), "run exact");
  CHECK(r.exit == 1);
  Db db(dir / "exact/seam.db", false);
  CHECK(rows(db, "SELECT group_key, left_ids, right_ids FROM groups ORDER BY group_no") ==
        std::vector<std::string>{"K1|[\"S, 1\"]|[\"E, 1\",\"E2\"]", "K2|[\"S\\\"2\"]|[\"E\\\"3\"]"});
  CHECK(rows(db, "SELECT group_key, left_ids, right_ids FROM exceptions ORDER BY id") ==
        std::vector<std::string>{"K1|[\"S, 1\"]|[\"E, 1\",\"E2\"]", "K2|[\"S\\\"2\"]|[\"E\\\"3\"]"});
  // A whole id is found, a part of one is not.
  auto t = run_seam(dir.path(), "trace 'E, 1' --db exact/seam.db --format json");
  CHECK(t.exit == 0);
  CHECK(python_json(t.out, "[(v['left_ids'], v['right_ids']) for v in d['verdicts']]") ==
        "[(['S, 1'], ['E, 1', 'E2']), (['S, 1'], ['E, 1', 'E2']), (['S, 1'], ['E, 1', 'E2'])]");
  CHECK(run_seam(dir.path(), "trace E --db exact/seam.db").out == "no verdicts about 'E' in the audit log\n");
  auto q = run_seam(dir.path(), "trace 'E\"3' --db exact/seam.db");
  CHECK(q.out.find("  left: S\"2   right: E\"3\n") != std::string::npos);
  auto text = run_seam(dir.path(), "trace 'S, 1' --db exact/seam.db");
  CHECK(text.out.find("  left: S, 1   right: E, 1, E2\n") != std::string::npos);  // for people, as before
  auto json = run_seam(dir.path(), "run exact --format json");
  CHECK(python_json(json.out, "[(f['left_ids'], f['right_ids']) for f in d['reconciles'][0]['findings']]") ==
        "[(['S, 1'], ['E, 1', 'E2']), (['S\"2'], ['E\"3'])]");
  CHECK(run_seam(dir.path(), "audit verify --db exact/seam.db").exit == 0);
}

TEST_CASE("e2e exact values: NUL bytes and invalid UTF-8 in ids from NDJSON and CSV: the log verifies, JSON stays JSON") {
  TempDir dir;
  // CSV carries both as raw bytes; NDJSON carries the NUL as \u0000, and its reader rejects
  // a line that is not UTF-8 (kept, raw bytes and all, in the log's rejects). A's amounts
  // differ and B has no erp record, so both become exceptions.
  write_stack(dir, "one_to_one", "id,key,amount\n" + kNul + "," + kNul + ",1.00\n" + kBad + "," + kBad + ",2.00\nC,C,3.00\n",
              "{\"id\":\"A\\u00001\",\"key\":\"A\\u00001\",\"amount\":\"1.50\"}\n"
              "{\"id\":\"" + kBad + "\",\"key\":\"" + kBad + "\",\"amount\":\"2.00\"}\n"
              "{\"id\":\"C\",\"key\":\"C\",\"amount\":\"3.00\"}\n");
  for (int run = 1; run <= 2; ++run) {
    auto r = run_seam(dir.path(), "run exact");
    CHECK(r.exit == 1);
    CHECK(r.out.find("A\\x001") != std::string::npos);  // shown, not hidden in the terminal
    CHECK(r.out.find(std::string(1, '\0')) == std::string::npos);
  }
  Db db(dir / "exact/seam.db", false);
  CHECK(rows(db, "SELECT count(*) FROM groups WHERE run_id = 2") == std::vector<std::string>{"3"});
  {
    Statement s(db, "SELECT group_key, left_ids, right_ids FROM groups WHERE run_id = 1 ORDER BY group_no");
    std::vector<std::string> got;
    while (s.step()) got.push_back(s.text_at(0) + "|" + s.text_at(1) + "|" + s.text_at(2));
    CHECK(got == std::vector<std::string>{kNul + "|[\"A\\u00001\"]|[\"A\\u00001\"]",
                                          kBad + "|[\"B\\udcff\"]|[]", "C|[\"C\"]|[\"C\"]"});
  }
  auto verify = run_seam(dir.path(), "audit verify --db exact/seam.db");
  CHECK(verify.exit == 0);
  CHECK(verify.out.find("run 1: ok\nrun 2: ok\naudit log verifies") == 0);
  CHECK(python_json(run_seam(dir.path(), "audit verify --db exact/seam.db --format json").out, "d['ok']") == "True");
  // Every JSON output parses, and the ids decode back to their bytes (surrogateescape).
  auto keys = "[e['key'].encode('utf-8', 'surrogateescape').hex() for e in d]";
  CHECK(python_json(run_seam(dir.path(), "exceptions --db exact/seam.db --format json").out, keys) ==
        "['410031', '42ff']");
  CHECK(python_json(run_seam(dir.path(), "report variance --db exact/seam.db --status all --format json").out,
                    "sorted([e['key'].encode('utf-8', 'surrogateescape').hex() for e in d['exceptions']])") ==
        "['410031', '42ff']");
  CHECK(python_json(run_seam(dir.path(), "report totals --db exact/seam.db --format json").out, "d['rows'][0]['net_variance']") ==
        "-1.50 USD");
  CHECK(python_json(run_seam(dir.path(), "run exact --format json").out,
                    "[f['left_ids'][0].encode('utf-8', 'surrogateescape').hex() for f in d['reconciles'][0]['findings']]") ==
        "['410031', '42ff']");
  auto trace = run_seam(dir.path(), "trace " + shell_quote(kBad) + " --db exact/seam.db --format json");
  CHECK(python_json(trace.out, "len(d['verdicts'])") == "9");  // 2 rules and cardinality in each of 3 runs
  auto run_json = run_seam(dir.path(), "run exact --format json").out;
  CHECK(python_json(run_json, "[(r['reason'], r['raw'].encode('utf-8', 'surrogateescape')) for r in d['rejects']]") ==
        "[('invalid JSON: The input is not valid UTF-8', b'{\"id\":\"B\\xff\",\"key\":\"B\\xff\",\"amount\":\"2.00\"}')]");
  // People's formats show the bytes as \xNN.
  auto html = run_seam(dir.path(), "report variance --db exact/seam.db --format html").out;
  CHECK(html.find("<td>A\\x001</td>") != std::string::npos);
  CHECK(html.find("<td>B\\xFF</td>") != std::string::npos);
  CHECK(html.find('\0') == std::string::npos);
  auto csv = run_seam(dir.path(), "report variance --db exact/seam.db --format csv").out;
  CHECK(csv.find(",A\\x001,") != std::string::npos);
  CHECK(csv.find('\0') == std::string::npos);
  CHECK(run_seam(dir.path(), "trace " + shell_quote(kBad) + " --db exact/seam.db").out.find("key B\\xFF\n  left: B\\xFF") !=
        std::string::npos);
  CHECK(run_seam(dir.path(), "audit verify --db exact/seam.db").out.find("run 4: ok\naudit log verifies") != std::string::npos);
}
