-- The refund reconciliation as a consultant would write it in SQL (sqlite3 shell).
-- Run from the stack folder: sqlite3 :memory: < reconcile.sql  →  failures_sql.csv (key,rule)
-- Like the pandas peer, it writes only the exceptions, not a verdict per check.
.mode csv
.import data/storefront_refunds.csv sf_raw
CREATE TABLE raw(line TEXT);
.mode ascii
.separator "\t" "\n"
.import data/erp_customer_refunds.ndjson raw

CREATE TABLE sf AS
SELECT "Refund ID" AS ref,
       CAST(round(CAST(replace(replace(Amount, ',', ''), '$', '') AS REAL) * 100) AS INTEGER) AS cents,
       julianday("Created At") AS at
FROM sf_raw;

-- NetSuite exports New York local time, "03/10/2026 10:12 am"; SQLite has no time zones,
-- so the 2026 daylight-saving dates are written out.
CREATE TABLE erp AS
WITH j AS (
  SELECT json_extract(line, '$.memo') AS memo, json_extract(line, '$.total') AS total,
         json_extract(line, '$.tranDate') AS tran, json_extract(line, '$.custbody_reason_code') AS reason
  FROM raw),
t AS (
  SELECT *, substr(tran, 12) AS clock FROM j),
l AS (
  SELECT memo, total, reason,
         printf('%s-%s-%s %02d:%s:00', substr(tran, 7, 4), substr(tran, 1, 2), substr(tran, 4, 2),
                CAST(substr(clock, 1, instr(clock, ':') - 1) AS INTEGER) % 12 + (substr(clock, -2) = 'pm') * 12,
                substr(clock, instr(clock, ':') + 1, 2)) AS local
  FROM t)
SELECT substr(memo, instr(memo, 'refund ') + 7) AS ref,
       CAST(round(CAST(total AS REAL) * 100) AS INTEGER) AS cents,
       julianday(local, CASE WHEN local >= '2026-03-08 02:00:00' AND local < '2026-11-01 02:00:00'
                             THEN '+4 hours' ELSE '+5 hours' END) AS posted_at,
       coalesce(reason, '') AS reason
FROM l;

CREATE INDEX erp_ref ON erp(ref);
CREATE INDEX sf_ref ON sf(ref);
CREATE TABLE copies AS SELECT ref, count(*) AS n FROM erp GROUP BY ref;
CREATE INDEX copies_ref ON copies(ref);

.mode csv
.headers on
.output failures_sql.csv
WITH as_of AS (SELECT max((SELECT max(at) FROM sf), (SELECT max(posted_at) FROM erp)) AS t),
failures AS (
  SELECT sf.ref AS key, 'exists in right' AS rule FROM sf, as_of
  WHERE NOT EXISTS (SELECT 1 FROM erp WHERE erp.ref = sf.ref) AND (as_of.t - sf.at) * 1440 >= 30
  UNION
  SELECT erp.ref, 'exists in left' FROM erp WHERE NOT EXISTS (SELECT 1 FROM sf WHERE sf.ref = erp.ref)
  UNION
  SELECT sf.ref, 'amount equal' FROM sf JOIN erp ON erp.ref = sf.ref WHERE erp.cents <> sf.cents
  UNION
  SELECT sf.ref, 'lag at -> posted_at' FROM sf JOIN erp ON erp.ref = sf.ref
  WHERE abs(erp.posted_at - sf.at) * 1440 > 30.0001
  UNION
  SELECT sf.ref, 'posted once' FROM sf JOIN copies ON copies.ref = sf.ref WHERE copies.n > 1
  UNION
  SELECT sf.ref, 'reason code kept' FROM sf JOIN erp ON erp.ref = sf.ref WHERE erp.reason = '')
SELECT key, rule FROM failures ORDER BY key, rule;
