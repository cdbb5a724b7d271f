// The refund reconciliation as a data engineer would write it with Polars (lazy API).
//
//   node bench/peers/reconcile_polars.mjs STACK_DIR OUT
//
// Reads STACK_DIR/data/{storefront_refunds.csv, erp_customer_refunds.ndjson} and writes
// OUT (key,rule), one line per failing check, with seam's rule names, like the pandas and
// SQL peers: the same six checks, the same parsing (amounts without thousands separators or
// "$", times in UTC, the ERP's "03/10/2026 10:12 am" in America/New_York), only the
// exceptions written. One lazy plan, run by Polars' thread pool (POLARS_MAX_THREADS, by default
// every core): both files scanned in parallel with only the columns used, the ERP side
// aggregated per refund before the join (copies, lowest and highest amount and posting time,
// any reason code missing), so "any ERP copy fails" is decided without a row per copy, and the
// joined frame computed once (cached) for the six checks.
import pl from "nodejs-polars";

const [stackDir, out] = process.argv.slice(2);
if (!stackDir || !out) {
  console.error("usage: reconcile_polars.mjs STACK_DIR OUT");
  process.exit(2);
}
const LAG_MS = 30 * 60 * 1000; // the stack's lag_minutes, in milliseconds
const col = pl.col;
const cents = (text) => text.cast(pl.Float64).mul(100).round(0).cast(pl.Int64);
const epochMs = (datetime) => datetime.dt.timestamp(); // milliseconds since 1970 (UTC)

const sfSchema = {};
for (const c of ["Refund ID", "Order", "Created At", "Amount", "Currency", "Status", "Reason", "Type"]) {
  sfSchema[c] = pl.Utf8;
}
const sf = pl
  .scanCSV(`${stackDir}/data/storefront_refunds.csv`, { hasHeader: true, schema: sfSchema })
  .select(
    col("Refund ID").alias("ref"),
    cents(col("Amount").str.replaceAll(",", "", true).str.replaceAll("$", "", true)).alias("cents"),
    epochMs(col("Created At").str.strptime(pl.Datetime, "%Y-%m-%dT%H:%M:%SZ")).alias("created_at"),
    pl.lit(true).alias("in_left"),
  );

const erp = pl
  .scanJson(`${stackDir}/data/erp_customer_refunds.ndjson`, {
    schema: { memo: pl.Utf8, total: pl.Utf8, tranDate: pl.Utf8, custbody_reason_code: pl.Utf8 },
  })
  .select(
    col("memo").str.extract("refund (R[0-9]+)", 1).alias("ref"),
    cents(col("total")).alias("cents"),
    // New York wall time to UTC with the IANA zone; the repeated hour when clocks go back is
    // null, as in pandas (a skipped one too, where pandas shifts it: neither is in the data)
    epochMs(col("tranDate").str.strptime(pl.Datetime, "%m/%d/%Y %I:%M %p")
      .dt.replaceTimeZone("America/New_York", "null", "null").dt.convertTimeZone("UTC")).alias("posted_at"),
    col("custbody_reason_code").fillNull("").eq(pl.lit("")).alias("reason_dropped"),
  )
  .groupBy("ref")
  .agg(
    pl.len().alias("copies"),
    col("cents").min().alias("min_cents"),
    col("cents").max().alias("max_cents"),
    col("posted_at").min().alias("first_posted"),
    col("posted_at").max().alias("last_posted"),
    col("reason_dropped").any().alias("reason_dropped"),
  );

const joined = sf
  .join(erp, { on: "ref", how: "full", coalesce: true })
  .withColumns(
    col("in_left").fillNull(false).alias("in_left"),
    col("copies").isNotNull().alias("in_right"),
    pl.maxHorizontal([col("created_at").max(), col("last_posted").max()]).alias("as_of"),
  )
  .withColumns(col("in_left").and(col("in_right")).alias("both"))
  .cache();

const lagOf = (posted) => posted.sub(col("created_at")).abs().gt(LAG_MS);
const checks = {
  "exists in right": col("in_right").not().and(col("as_of").sub(col("created_at")).gtEq(LAG_MS)),
  "exists in left": col("in_left").not(),
  "amount equal": col("both").and(col("min_cents").neq(col("cents")).or(col("max_cents").neq(col("cents")))),
  "lag at -> posted_at": col("both").and(lagOf(col("first_posted")).or(lagOf(col("last_posted")))),
  "posted once": col("both").and(col("copies").gt(1)),
  "reason code kept": col("both").and(col("reason_dropped")),
};
const failures = pl
  .concat(Object.entries(checks).map(([rule, failing]) =>
    joined.filter(failing).select(col("ref").alias("key"), pl.lit(rule).alias("rule"))))
  .unique()
  .sort(["key", "rule"]);
(await failures.collect()).writeCSV(out);
