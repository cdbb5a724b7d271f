// examples/inventory end to end: ERP, WMS, storefront and 3PL around the ERP as system of
// record; cases and eaches; drift, a double decrement, a PO received in one system only, a
// 3PL confirmation the storefront never got, out of stock while the ERP holds stock, low stock.
#include <doctest/doctest.h>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

TEST_CASE("e2e inventory: every seeded fault, in base units, with its system of record") {
  TempDir dir;
  copy_example("inventory", dir / "inventory");
  CHECK(run_seam(dir.path(), "check inventory --strict").exit == 0);
  auto r = run_seam(dir.path(), "run inventory --limit 0");
  CHECK(r.exit == 1);
  // One declaration, a reconciliation per system around the ERP.
  CHECK(r.out.find("reconcile stock/wms_stock (erp_stock -> wms_stock): 6 groups, 18 verdicts: 16 pass, 2 fail\n") !=
        std::string::npos);
  CHECK(r.out.find("reconcile stock/storefront_stock (erp_stock -> storefront_stock): 6 groups, 18 verdicts: 15 pass, "
                   "3 fail\n") != std::string::npos);
  Db db(dir / "inventory/seam.db", false);
  // SKU-700 is counted in crates, which the stack never converts: quarantined, not guessed.
  CHECK(rows(db, "SELECT system, line, reason FROM rejects") ==
        std::vector<std::string>{"erp_stock|8|no conversion from unit 'crate' to each for SKU-700 (declared: each, EA, "
                                 "case) (field 'on_hand', column 'On Hand')"});
  CHECK(rows(db, "SELECT system, rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs "
                 "WHERE system IN ('erp_stock', 'wms_picks') ORDER BY system") ==
        std::vector<std::string>{"erp_stock|7|6|1|0", "wms_picks|5|4|0|1"});
  CHECK(rows(db, "SELECT reconcile, group_key, rule, outcome, coalesce(expected, ''), coalesce(actual, ''), "
                 "coalesce(delta, '') FROM verdicts WHERE outcome IN ('fail', 'error', 'pending') ORDER BY 1, 2, 3") ==
        std::vector<std::string>{
            "listing|SKU-500|out of stock while the ERP holds stock|fail|in stock|out of stock|",
            "picks|O-902 | SKU-200|decremented once|fail|1 record|2 records|",
            "picks|O-902 | SKU-200|picked as ordered|fail|1 each|2 each|1 each",
            "po_receipts|PO-78|received in the WMS|fail|1 wms_receipts record|none|",
            "po_receipts|PO-79|received in the WMS|pending|1 wms_receipts record|none yet|",
            "replenishment|SKU-600|low stock|fail|>= 3.14|3|",
            "shipments|O-903|storefront updated|fail|1 storefront_fulfillments record|none|",
            "stock/storefront_stock|SKU-200|count drift|fail|30 each|29 each|-1 each",
            "stock/storefront_stock|SKU-300|count drift|fail|48 each|24 each|-24 each",
            "stock/storefront_stock|SKU-500|count drift|fail|6 each|0 each|-6 each",
            "stock/wms_stock|SKU-200|count drift|fail|30 each|29 each|-1 each",
            "stock/wms_stock|SKU-300|count drift|fail|48 each|24 each|-24 each",
            "stock_ledgers|SKU-200|ledgers agree|fail|-2|-1|1",
            "stock_ledgers|SKU-300|ledgers agree|fail|24|48|24"});
  // SKU-400 is 4 cases of 12 in the ERP and 48 eaches in the WMS: no drift.
  CHECK(rows(db, "SELECT outcome FROM verdicts WHERE reconcile = 'stock/wms_stock' AND group_key = 'SKU-400' "
                 "AND rule = 'count drift'") == std::vector<std::string>{"pass"});
  CHECK(rows(db, "SELECT DISTINCT reconcile, system_of_record FROM exceptions ORDER BY 1") ==
        std::vector<std::string>{"listing|erp_stock", "picks|order_lines", "po_receipts|erp_receipts",
                                 "replenishment|erp_stock", "shipments|tpl_shipments", "stock/storefront_stock|erp_stock",
                                 "stock/wms_stock|erp_stock", "stock_ledgers|erp_ledger"});
  // The WMS's movement ledger names the second pick of O-902 as where it parts from the ERP's.
  CHECK(rows(db, "SELECT message FROM failures WHERE reconcile = 'stock_ledgers' AND group_key = 'SKU-200'") ==
        std::vector<std::string>{"ledgers part ways at entry 2: wms_ledger MV-3 (2026-03-29T11:00:04Z, -1) has no "
                                 "erp_ledger entry; balances agreed at -1 before it; final balance wms_ledger -2, "
                                 "erp_ledger -1"});
  CHECK(rows(db, "SELECT message FROM failures WHERE rule = 'low stock'") ==
        std::vector<std::string>{"erp_stock on_hand is 3, under 2 x the average daily sell-through of 1.57 (11 sold in "
                                 "the 7 days to 2026-04-01T06:00:00Z)"});
  // Quantity exceptions are at stake in units, the stack's base unit named.
  auto variance = csv_fields(run_seam(dir.path(), "report variance --stack inventory --format csv --key SKU-300").out, 8);
  CHECK(variance == std::vector<std::string>{"id,key,system_of_record,reconcile,rule,status,at_stake,delta",
                                             "2,SKU-300,erp_stock,stock/wms_stock,count drift,open,24 each,-24 each",
                                             "4,SKU-300,erp_stock,stock/storefront_stock,count drift,open,24 each,-24 each",
                                             "10,SKU-300,erp_ledger,stock_ledgers,ledgers agree,open,24,24"});
  // Ops widen the window to 14 days (14 sold, 1.00/day) and want 4 days of cover.
  auto wider = run_seam(dir.path(), "run inventory --set sell_days=14 --set cover_factor=4 --format json");
  CHECK(wider.out.find("\"rule\":\"low stock\"") != std::string::npos);
  CHECK(wider.out.find("under 4 x the average daily sell-through of 1.00 (14 sold in the 14 days") != std::string::npos);
}
