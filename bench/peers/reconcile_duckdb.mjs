// The refund reconciliation as a data engineer would write it with DuckDB (2 threads).
//
//   node bench/peers/reconcile_duckdb.mjs STACK_DIR OUT
//
// Reads STACK_DIR/data/{storefront_refunds.csv, erp_customer_refunds.ndjson} and writes
// OUT (key,rule), one line per failing check, with seam's rule names, like the pandas and
// SQL peers: the same six checks, the same parsing (amounts without thousands separators or
// "$", times in UTC, the ERP's "03/10/2026 10:12 am" in America/New_York), only the
// exceptions written. One query: each file is read once by DuckDB's parallel readers, the ERP
// side is aggregated per refund before the join (copies, lowest and highest amount and posting
// time, any reason code missing), so "any ERP copy fails" is decided without a row per copy.
import { DuckDBInstance } from "@duckdb/node-api";

const [stackDir, out] = process.argv.slice(2);
if (!stackDir || !out) {
  console.error("usage: reconcile_duckdb.mjs STACK_DIR OUT");
  process.exit(2);
}
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
const LAG_US = 30 * 60 * 1000000; // the stack's lag_minutes, in microseconds

const db = await DuckDBInstance.create(":memory:", {
  threads: "2",
  autoinstall_known_extensions: "false", // icu and json are built into the bindings
});
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'"); // times are compared as epoch microseconds anyway
await con.run(`
COPY (
  WITH sf AS MATERIALIZED (
    SELECT "Refund ID" AS ref,
           CAST(round(CAST(replace(replace("Amount", ',', ''), '$', '') AS DOUBLE) * 100) AS BIGINT) AS cents,
           epoch_us(CAST("Created At" AS TIMESTAMPTZ)) AS created_at
    FROM read_csv(${lit(`${stackDir}/data/storefront_refunds.csv`)}, header = true, quote = '"',
                  columns = {'Refund ID': 'VARCHAR', 'Order': 'VARCHAR', 'Created At': 'VARCHAR',
                             'Amount': 'VARCHAR', 'Currency': 'VARCHAR', 'Status': 'VARCHAR',
                             'Reason': 'VARCHAR', 'Type': 'VARCHAR'})),
  erp AS MATERIALIZED (
    SELECT ref, count(*) AS copies, min(cents) AS min_cents, max(cents) AS max_cents,
           min(posted_at) AS first_posted, max(posted_at) AS last_posted,
           bool_or(coalesce(reason, '') = '') AS reason_dropped
    FROM (
      SELECT regexp_extract(memo, 'refund (R[0-9]+)', 1) AS ref,
             CAST(round(CAST(total AS DOUBLE) * 100) AS BIGINT) AS cents,
             -- New York wall time to UTC with the IANA zone (DST as it was that day); the
             -- repeated hour when clocks go back, which these March exports never hold, would
             -- get one of its two offsets here where pandas gives NaT
             epoch_us(timezone('America/New_York', strptime(tranDate, '%m/%d/%Y %I:%M %p'))) AS posted_at,
             custbody_reason_code AS reason
      FROM read_json(${lit(`${stackDir}/data/erp_customer_refunds.ndjson`)}, format = 'newline_delimited',
                     columns = {memo: 'VARCHAR', total: 'VARCHAR', tranDate: 'VARCHAR',
                                custbody_reason_code: 'VARCHAR'}))
    GROUP BY ref),
  as_of AS (SELECT greatest((SELECT max(created_at) FROM sf), (SELECT max(last_posted) FROM erp)) AS t),
  j AS (
    SELECT coalesce(sf.ref, erp.ref) AS key, sf.ref IS NOT NULL AND erp.ref IS NOT NULL AS both_sides,
           sf.ref IS NULL AS left_missing, erp.ref IS NULL AS right_missing, sf.created_at, sf.cents, erp.*
    FROM sf FULL OUTER JOIN erp ON sf.ref = erp.ref),
  failures AS (
    SELECT key, unnest([
      CASE WHEN right_missing AND (SELECT t FROM as_of) - created_at >= ${LAG_US} THEN 'exists in right' END,
      CASE WHEN left_missing THEN 'exists in left' END,
      CASE WHEN both_sides AND (min_cents <> cents OR max_cents <> cents) THEN 'amount equal' END,
      CASE WHEN both_sides AND greatest(abs(first_posted - created_at), abs(last_posted - created_at)) > ${LAG_US}
           THEN 'lag at -> posted_at' END,
      CASE WHEN both_sides AND copies > 1 THEN 'posted once' END,
      CASE WHEN both_sides AND reason_dropped THEN 'reason code kept' END]) AS rule
    FROM j)
  SELECT DISTINCT key, rule FROM failures WHERE rule IS NOT NULL ORDER BY key, rule
) TO ${lit(out)} (FORMAT csv, HEADER true)`);
con.closeSync();
