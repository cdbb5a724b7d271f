// A chain across three systems by the real binary: a storefront refund confirmed by the
// processor (the storefront's authorization is the processor's refund id) and booked in the
// ERP (the processor's refund id inside the memo) is one story under the storefront refund's
// key, whichever hop fails.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

const char* kStack = R"LUA(stack "chain"
system "shop" { source = csv { path = "shop.csv" }, id = "refund_id",
  fields = { refund_id = "refund_id", auth = "authorization", amount = money { column = "amount", currency = "USD" } } }
system "stripe" { source = ndjson { path = "stripe.ndjson" }, id = "id",
  fields = { id = "id", amount = money { column = "amount", currency = "USD" } } }
system "erp" { source = csv { path = "erp.csv" }, id = "internal_id",
  fields = { internal_id = "internal_id", stripe_ref = extract { column = "memo", regex = "(re_[0-9]+)" },
             amount = money { column = "amount", currency = "USD" } } }
reconcile "confirmed" {
  left = "shop", right = "stripe", key_by = "left",
  match = { left = "auth", right = "id" },
  rules = { exists_in { "right", name = "confirmed by stripe" }, amount_equal { field = "amount" } },
}
reconcile "booked" {
  left = "stripe", right = "erp", chain = "confirmed",
  match = { left = "id", right = "stripe_ref" },
  rules = { exists_in { "right", name = "booked in the erp" }, amount_equal { field = "amount" } },
}
)LUA";

void write_chain(const TempDir& dir, const std::string& stack = kStack) {
  write_file(dir / "c/stack.lua", stack);
  write_file(dir / "c/shop.csv",
             "refund_id,authorization,amount\nR1,re_1,10.00\nR2,re_2,20.00\nR3,re_3,30.00\nR4,re_4,40.00\n");
  write_file(dir / "c/stripe.ndjson",
             "{\"id\":\"re_1\",\"amount\":\"10.00\"}\n{\"id\":\"re_2\",\"amount\":\"20.00\"}\n"
             "{\"id\":\"re_3\",\"amount\":\"31.00\"}\n{\"id\":\"re_9\",\"amount\":\"9.00\"}\n");
  write_file(dir / "c/erp.csv",
             "internal_id,memo,amount\nCR-1,refund re_1,10.00\nCR-3,refund re_3,31.00\nCR-9,refund re_9,9.00\n");
}

}  // namespace

TEST_CASE("e2e chains: every hop's exceptions carry the storefront refund's key") {
  TempDir dir;
  write_chain(dir);
  auto r = run_seam(dir.path(), "run c");
  CHECK(r.exit == 1);
  Db db(dir / "c/seam.db", false);
  // R2 never reached the ERP, R3 was confirmed for another amount, R4 never reached Stripe;
  // re_9 has no storefront refund: its hop keeps its own key.
  CHECK(rows(db, "SELECT CASE reconcile_no WHEN 0 THEN 'confirmed' ELSE 'booked' END, group_key, left_ids, right_ids "
                 "FROM groups ORDER BY reconcile_no DESC, group_no") ==
        std::vector<std::string>{
            "booked|R1|[\"re_1\"]|[\"CR-1\"]", "booked|R2|[\"re_2\"]|[]", "booked|R3|[\"re_3\"]|[\"CR-3\"]",
            "booked|re_9|[\"re_9\"]|[\"CR-9\"]", "confirmed|R1|[\"R1\"]|[\"re_1\"]", "confirmed|R2|[\"R2\"]|[\"re_2\"]",
            "confirmed|R3|[\"R3\"]|[\"re_3\"]", "confirmed|R4|[\"R4\"]|[]", "confirmed|re_9|[]|[\"re_9\"]"});
  CHECK(rows(db, "SELECT group_key, reconcile, rule FROM exceptions ORDER BY group_key, reconcile") ==
        std::vector<std::string>{"R2|booked|booked in the erp", "R3|confirmed|amount equal",
                                 "R4|confirmed|confirmed by stripe"});
  // One refund's whole story from its storefront id, whichever hop it is in.
  auto t = run_seam(dir.path(), "trace R2 --stack c --format json");
  CHECK(t.exit == 0);
  CHECK(python_json(t.out, "sorted(set((v['reconcile'], v['rule'], v['outcome']) for v in d['verdicts']))") ==
        "[('booked', 'amount equal', 'skip'), ('booked', 'booked in the erp', 'fail'), ('booked', 'cardinality', "
        "'pass'), ('confirmed', 'amount equal', 'pass'), ('confirmed', 'cardinality', 'pass'), ('confirmed', "
        "'confirmed by stripe', 'pass')]");
  // Found by the processor's id too.
  auto by_id = run_seam(dir.path(), "trace re_3 --stack c --format json");
  CHECK(python_json(by_id.out, "sorted(set(v['group_key'] for v in d['verdicts']))") == "['R3']");
}

TEST_CASE("e2e chains: a chain names an earlier hop that ends where it starts, key_by a declared id") {
  TempDir dir;
  auto check_with = [&](const std::string& from, const std::string& to) {
    std::string s = kStack;
    s.replace(s.find(from), from.size(), to);
    write_chain(dir, s);
    return run_seam(dir.path(), "check c").err;
  };
  CHECK(check_with("chain = \"confirmed\"", "chain = \"nope\"") ==
        "seam: error: c/stack.lua:14: reconcile 'booked' chains from 'nope', which is not declared; chain names an "
        "earlier reconcile\n");
  CHECK(check_with("left = \"stripe\", right = \"erp\", chain", "left = \"erp\", right = \"stripe\", chain") ==
        "seam: error: c/stack.lua:14: reconcile 'booked' chains from 'confirmed', whose right system is 'stripe', "
        "but its own left system is 'erp': a chain continues from the previous hop's right system (left = "
        "\"stripe\")\n");
  CHECK(check_with("key_by = \"left\"", "key_by = \"right\"").find("key_by takes \"left\"") != std::string::npos);
}

TEST_CASE("e2e chains: two groups that would take one key are both kept apart, known by both keys") {
  TempDir dir;
  write_chain(dir);
  // R6 is written twice with two authorizations: two groups of `confirmed` would both be R6.
  write_file(dir / "c/shop.csv", read_file(dir / "c/shop.csv") + "R6,re_6,6.00\nR6,re_7,7.00\n");
  write_file(dir / "c/stripe.ndjson", read_file(dir / "c/stripe.ndjson") +
                                          "{\"id\":\"re_6\",\"amount\":\"6.00\"}\n{\"id\":\"re_7\",\"amount\":\"7.50\"}\n");
  write_file(dir / "c/erp.csv", read_file(dir / "c/erp.csv") + "CR-6,refund re_6,6.00\nCR-7,refund re_7,7.50\n");
  CHECK(run_seam(dir.path(), "run c").exit == 1);
  Db db(dir / "c/seam.db", false);
  CHECK(rows(db, "SELECT reconcile_no, group_key, left_ids FROM groups WHERE group_key LIKE 'R6%' ORDER BY reconcile_no, "
                 "group_no") ==
        std::vector<std::string>{"0|R6|[\"R6\"]", "0|R6 / re_7|[\"R6\"]", "1|R6|[\"re_6\"]", "1|R6 / re_7|[\"re_7\"]"});
  // One exception per group: the amount that differs is on the second one only.
  CHECK(rows(db, "SELECT group_key, reconcile, rule FROM exceptions WHERE group_key LIKE 'R6%'") ==
        std::vector<std::string>{"R6 / re_7|confirmed|amount equal"});
}
