// examples/giftcards end to end: Square-shaped JSON platform activity, an SQLite liability journal, NDJSON
// orders and CSV captures; ledgers, balances, duplicates, and a missing load named as the
// root cause of its card's other exceptions.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

TEST_CASE("e2e giftcards: every seeded fault, with its amounts, system of record and root cause") {
  TempDir dir;
  copy_example("giftcards", dir / "giftcards");
  auto r = run_seam(dir.path(), "run giftcards --limit 0");
  CHECK(r.exit == 1);
  CHECK(r.out.find("  platform_loads        giftcards/data/platform_activity.json    read 15 = accepted 6 + rejected 0 + "
                   "skipped 9 (only)\n") != std::string::npos);
  CHECK(r.out.find("  captures              giftcards/data/payment_captures.csv      read 7 = accepted 6 + rejected 0 + "
                   "skipped 1 (only)\n") != std::string::npos);
  Db db(dir / "giftcards/seam.db", false);
  // The redemption written in dollars where Square has cents is quarantined by each system that keeps it.
  CHECK(rows(db, "SELECT system, line, reason FROM rejects ORDER BY system") ==
        std::vector<std::string>{
            "platform|17|cannot read '25.00' as an amount: minor units are whole numbers, found a decimal separator "
            "(field 'amount', column chosen by field 'type')",
            "platform_redemptions|17|cannot read '25.00' as an amount: minor units are whole numbers, found a decimal "
            "separator (field 'amount', column chosen by field 'type')"});
  CHECK(rows(db, "SELECT reconcile, group_key, rule, outcome, coalesce(expected, ''), coalesce(actual, ''), "
                 "coalesce(delta, '') FROM failures ORDER BY reconcile, group_key, rule") ==
        std::vector<std::string>{
            "card_ledgers|GC-1003|ledgers agree|fail|35.00 USD|-15.00 USD|-50.00 USD",
            "card_ledgers|GC-1003|liability balance|fail|35.00 USD|-15.00 USD|-50.00 USD",
            "card_ledgers|GC-1004|ledgers agree|fail|40.00 USD|0.00 USD|-40.00 USD",
            "card_ledgers|GC-1004|liability balance|fail|40.00 USD|0.00 USD|-40.00 USD",
            "card_ledgers|GC-1005|ledgers agree|fail|67.50 USD|72.50 USD|5.00 USD",
            "card_ledgers|GC-1005|liability balance|fail|67.50 USD|72.50 USD|5.00 USD",
            "gift_card_checkouts|O-5005|redeemed on the platform|fail|1 platform_redemptions record|none|",
            "loads_reach_erp|EV-1006|load in the liability ledger|fail|1 erp_loads record|none|-50.00 USD",
            "loads_reach_erp|EV-1011|loads add up|fail|70.00 USD|75.00 USD|5.00 USD",
            "redemptions_reach_erp|GC-1004|posted once|fail|1 record|2 records|",
            "redemptions_reach_erp|GC-1004|redemptions add up|fail|-40.00 USD|-80.00 USD|-40.00 USD"});
  CHECK(rows(db, "SELECT message FROM failures WHERE group_key = 'GC-1004' AND rule = 'ledgers agree'") ==
        std::vector<std::string>{
            "ledgers part ways at entry 3: erp JE-7011 (2026-03-09T13:52:00Z, -40.00 USD) has no platform entry; "
            "balances agreed at 40.00 USD before it; final balance platform 40.00 USD, erp 0.00 USD"});
  // Every card ledger exception has its root cause, found through the card's platform event
  // ids (the loads' keys) or on the card's own key (its redemptions), and explained in full:
  // the missing load its 50.00, the load booked 5.00 too high its 5.00, the redemption
  // posted twice its 40.00.
  CHECK(rows(db, "SELECT e.id, e.reconcile, e.group_key, e.rule, e.system_of_record, e.severity, "
                 "coalesce(c.reconcile || ' / ' || c.rule || ' on ' || c.group_key, '') FROM exceptions e "
                 "LEFT JOIN exceptions c ON c.id = e.caused_by "
                 "WHERE e.reconcile IN ('loads_reach_erp', 'card_ledgers') ORDER BY e.id") ==
        std::vector<std::string>{
            "1|loads_reach_erp|EV-1006|load in the liability ledger|erp_loads|critical|",
            "2|loads_reach_erp|EV-1011|loads add up|erp_loads|high|",
            "5|card_ledgers|GC-1003|ledgers agree|erp|high|loads_reach_erp / load in the liability ledger on EV-1006",
            "6|card_ledgers|GC-1003|liability balance|erp|critical|loads_reach_erp / load in the liability ledger on "
            "EV-1006",
            "7|card_ledgers|GC-1004|ledgers agree|erp|high|redemptions_reach_erp / redemptions add up on GC-1004",
            "8|card_ledgers|GC-1004|liability balance|erp|critical|redemptions_reach_erp / redemptions add up on GC-1004",
            "9|card_ledgers|GC-1005|ledgers agree|erp|high|loads_reach_erp / loads add up on EV-1011",
            "10|card_ledgers|GC-1005|liability balance|erp|critical|loads_reach_erp / loads add up on EV-1011"});
  CHECK(rows(db, "SELECT effect_id, cause_id, explains, currency FROM exception_causes ORDER BY effect_id") ==
        std::vector<std::string>{"5|1|5000|USD", "6|1|5000|USD", "7|3|4000|USD", "8|3|4000|USD", "9|2|500|USD",
                                 "10|2|500|USD"});
  // So the totals count each of those amounts once: 50.00 missing, 5.00 too much, 40.00
  // redeemed twice; the card ledgers' own 85.00 is all explained.
  auto totals = run_seam(dir.path(), "report totals --stack giftcards --format csv");
  CHECK(csv_body(totals.out) ==
        std::vector<std::string>{
            "month,status,reconcile,keys,exceptions,left_total,right_total,net_variance,explained_by_causes,"
            "net_counted_once,at_stake_counted_once",
            "2026-03,open,gift_card_checkouts,1,1,,,,,,", "2026-03,open,\"all, counted once\",1,1,,,,,,",
            "2026-03,open,card_ledgers,3,6,142.50 USD,57.50 USD,-85.00 USD,-85.00 USD,0.00 USD,0.00 USD",
            "2026-03,open,loads_reach_erp,2,2,120.00 USD,75.00 USD,-45.00 USD,0.00 USD,-45.00 USD,55.00 USD",
            "2026-03,open,redemptions_reach_erp,1,2,-40.00 USD,-80.00 USD,-40.00 USD,0.00 USD,-40.00 USD,40.00 USD",
            "2026-03,open,\"all, counted once\",6,10,,,,,-85.00 USD,95.00 USD"});
  // `seam exceptions --format json` carries the links both ways, with what each explains.
  auto listed = run_seam(dir.path(), "exceptions --stack giftcards --format json");
  CHECK(python_json(listed.out, "[(e['id'], [c['id'] for c in e['caused_by']], [c['id'] for c in e['consequences']]) "
                                "for e in d if e['caused_by'] or e['consequences']]") ==
        "[(1, [], [5, 6]), (2, [], [9, 10]), (3, [], [7, 8]), (5, [1], []), (6, [1], []), (7, [3], []), (8, [3], []), "
        "(9, [2], []), (10, [2], [])]");
  CHECK(python_json(listed.out, "d[4]['caused_by']") ==
        "[{'id': 1, 'reconcile': 'loads_reach_erp', 'key': 'EV-1006', 'rule': 'load in the liability ledger', "
        "'explains': '50.00 USD'}]");
  auto trace = run_seam(dir.path(), "trace GC-1003 --stack giftcards");
  CHECK(trace.out.rfind("exceptions about GC-1003\n"
                        "  #5 open  card_ledgers / ledgers agree\n"
                        "      caused by #1 loads_reach_erp / load in the liability ledger on EV-1006 (open), "
                        "explains 50.00 of 50.00 USD\n"
                        "      explained 50.00 of 50.00 USD; 0.00 unexplained\n"
                        "  #6 open  card_ledgers / liability balance\n",
                        0) == 0);
  auto cause = run_seam(dir.path(), "trace EV-1006 --stack giftcards");
  CHECK(cause.out.rfind("exceptions about EV-1006\n"
                        "  #1 open  loads_reach_erp / load in the liability ledger\n"
                        "      root cause of 2:\n"
                        "        #5 card_ledgers / ledgers agree on GC-1003 (open), explains 50.00 of 50.00 USD\n"
                        "        #6 card_ledgers / liability balance on GC-1003 (open), explains 50.00 of 50.00 USD\n",
                        0) == 0);

  // The ERP team posts the missing load: the root cause and its consequences resolve together.
  Db erp(dir / "giftcards/data/erp.db", false);
  erp.exec("INSERT INTO liability_journal VALUES ('JE-7006', 'load', 'GC-1003', '50.00', 'USD', "
           "'2026-03-04T14:10:00Z', 'GiftCo EV-1006')");
  auto again = run_seam(dir.path(), "run giftcards");
  CHECK(again.out.find("exceptions across runs: 0 opened, 0 reopened, 8 still open, 3 resolved") != std::string::npos);
  CHECK(rows(db, "SELECT id FROM exceptions WHERE status = 'resolved' ORDER BY id") ==
        std::vector<std::string>{"1", "5", "6"});
}

TEST_CASE("e2e giftcards: the stack's own tests pass (seam test)") {
  auto r = run_seam(SEAM_SOURCE_DIR, "test examples/giftcards");
  CHECK(r.exit == 0);
  CHECK(r.out.find("3 passed, 0 failed\n") != std::string::npos);
}
