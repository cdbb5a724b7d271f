#include "engine/audit/schema.hpp"

#include <functional>
#include <vector>

#include "engine/audit/chain.hpp"
#include "engine/value/clock.hpp"
#include "engine/value/time.hpp"

namespace seam {
namespace {

// Storage is compact on purpose: one `groups` row per match group carries the outcome of
// every rule as one letter each (P pass, F fail, W warn, S skip, E error, N pending), and
// only non-pass verdicts get a `verdict_details` row. The `verdicts` view expands this to
// one row per verdict for people and tools.
// One row per verdict, expanded from the groups' outcome letters and the non-pass details;
// recreated by migrations that change what `groups` is.
// Until v5 (groups had no strategy).
constexpr const char* kVerdictViewsV1 = R"SQL(
CREATE VIEW verdicts AS
SELECT g.run_id,
       rc.name AS reconcile,
       g.group_key,
       g.left_ids,
       g.right_ids,
       r.name AS rule,
       r.kind AS rule_kind,
       r.version AS rule_version,
       r.source AS rule_source,
       CASE substr(g.outcomes, rr.position + 1, 1)
         WHEN 'P' THEN 'pass' WHEN 'F' THEN 'fail' WHEN 'W' THEN 'warn'
         WHEN 'S' THEN 'skip' WHEN 'E' THEN 'error' WHEN 'N' THEN 'pending' END AS outcome,
       r.severity,
       d.expected,
       d.actual,
       d.delta,
       d.message,
       g.group_no,
       rr.position
FROM groups g
JOIN run_reconciles rc ON rc.run_id = g.run_id AND rc.reconcile_no = g.reconcile_no
JOIN run_rules rr ON rr.run_id = g.run_id AND rr.reconcile_no = g.reconcile_no
JOIN rules r ON r.id = rr.rule_id
LEFT JOIN verdict_details d ON d.run_id = g.run_id AND d.group_no = g.group_no AND d.position = rr.position;

CREATE VIEW failures AS
SELECT * FROM verdicts WHERE outcome IN ('fail', 'error');
)SQL";

// Since v5: each verdict also names the match strategy that formed its group.
constexpr const char* kVerdictViews = R"SQL(
CREATE VIEW verdicts AS
SELECT g.run_id,
       rc.name AS reconcile,
       g.group_key,
       g.left_ids,
       g.right_ids,
       r.name AS rule,
       r.kind AS rule_kind,
       r.version AS rule_version,
       r.source AS rule_source,
       CASE substr(g.outcomes, rr.position + 1, 1)
         WHEN 'P' THEN 'pass' WHEN 'F' THEN 'fail' WHEN 'W' THEN 'warn'
         WHEN 'S' THEN 'skip' WHEN 'E' THEN 'error' WHEN 'N' THEN 'pending' END AS outcome,
       r.severity,
       d.expected,
       d.actual,
       d.delta,
       d.message,
       g.group_no,
       rr.position,
       ms.name AS match_strategy,
       g.matched_by
FROM groups g
JOIN run_reconciles rc ON rc.run_id = g.run_id AND rc.reconcile_no = g.reconcile_no
JOIN run_rules rr ON rr.run_id = g.run_id AND rr.reconcile_no = g.reconcile_no
JOIN rules r ON r.id = rr.rule_id
LEFT JOIN verdict_details d ON d.run_id = g.run_id AND d.group_no = g.group_no AND d.position = rr.position
LEFT JOIN run_strategies ms ON ms.run_id = g.run_id AND ms.reconcile_no = g.reconcile_no AND ms.strategy_no = g.strategy_no;

CREATE VIEW failures AS
SELECT * FROM verdicts WHERE outcome IN ('fail', 'error');
)SQL";

void migrate_v0_to_v1(Db& db) {
  db.exec(R"SQL(
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  stack_name      TEXT NOT NULL,
  stack_dir       TEXT NOT NULL,
  stack_digest    TEXT NOT NULL,
  seam_version    TEXT NOT NULL,
  started_at      TEXT NOT NULL,
  ended_at        TEXT,
  as_of           TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete', 'failed')),
  pid             INTEGER NOT NULL,
  host            TEXT NOT NULL,
  groups_count    INTEGER,
  pass_count      INTEGER, fail_count INTEGER, warn_count INTEGER,
  skip_count      INTEGER, error_count INTEGER, pending_count INTEGER,
  rejects_count   INTEGER,
  rejects_digest  TEXT,
  verdicts_digest TEXT,
  prev_seal       TEXT,
  seal            TEXT
);
CREATE TABLE run_params (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  name   TEXT NOT NULL,
  value  TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE run_inputs (
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  system        TEXT NOT NULL,
  path          TEXT NOT NULL,
  digest        TEXT NOT NULL,
  rows_read     INTEGER NOT NULL,
  rows_accepted INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  PRIMARY KEY (run_id, system),
  CHECK (rows_read = rows_accepted + rows_rejected)
) WITHOUT ROWID;
CREATE TABLE rejects (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq    INTEGER NOT NULL,
  system TEXT NOT NULL,
  path   TEXT NOT NULL,
  line   INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw    TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE rules (
  id         INTEGER PRIMARY KEY,
  stack_name TEXT NOT NULL,
  reconcile  TEXT NOT NULL,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  version    TEXT NOT NULL,
  source     TEXT NOT NULL,
  severity   TEXT NOT NULL,
  doc        TEXT NOT NULL,
  definition TEXT NOT NULL,
  UNIQUE (stack_name, reconcile, name, version, source)
);
CREATE TABLE run_reconciles (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  reconcile_no INTEGER NOT NULL,
  name         TEXT NOT NULL,
  left_system  TEXT NOT NULL,
  right_system TEXT NOT NULL,
  PRIMARY KEY (run_id, reconcile_no)
) WITHOUT ROWID;
CREATE TABLE run_rules (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  reconcile_no INTEGER NOT NULL,
  position     INTEGER NOT NULL,
  rule_id      INTEGER NOT NULL REFERENCES rules(id),
  PRIMARY KEY (run_id, reconcile_no, position)
) WITHOUT ROWID;
CREATE TABLE groups (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  group_no     INTEGER NOT NULL,
  reconcile_no INTEGER NOT NULL,
  group_key    TEXT NOT NULL,
  left_ids     TEXT NOT NULL,
  right_ids    TEXT NOT NULL,
  outcomes     TEXT NOT NULL,
  PRIMARY KEY (run_id, group_no)
) WITHOUT ROWID;
CREATE TABLE verdict_details (
  run_id   INTEGER NOT NULL,
  group_no INTEGER NOT NULL,
  position INTEGER NOT NULL,
  expected TEXT,
  actual   TEXT,
  delta    TEXT,
  message  TEXT NOT NULL,
  PRIMARY KEY (run_id, group_no, position)
) WITHOUT ROWID;

-- Append-only: sealed history cannot be edited by accident. (A determined editor can
-- drop these triggers; `seam audit verify` then finds the broken seal.)
CREATE TRIGGER groups_no_update BEFORE UPDATE ON groups BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER groups_no_delete BEFORE DELETE ON groups BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER details_no_update BEFORE UPDATE ON verdict_details BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER details_no_delete BEFORE DELETE ON verdict_details BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER rejects_no_update BEFORE UPDATE ON rejects BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER rejects_no_delete BEFORE DELETE ON rejects BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER runs_sealed BEFORE UPDATE ON runs WHEN OLD.seal IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a sealed run cannot change'); END;

)SQL");
  db.exec(kVerdictViewsV1);
  db.exec(R"SQL(


CREATE VIEW run_summary AS
SELECT id AS run_id, stack_name, status, started_at, ended_at, as_of, groups_count,
       pass_count, fail_count, warn_count, skip_count, error_count, pending_count, rejects_count, seal
FROM runs;
)SQL");
}

// Exceptions: derived state across runs, one row per (stack, reconciliation, key, rule) that
// ever failed, never deleted. Status changes after opening are events, appended and kept
// (the opening itself is the row's first_run and first_seen_at).
void migrate_v1_to_v2(Db& db) {
  db.exec(R"SQL(
CREATE TABLE exceptions (
  id             INTEGER PRIMARY KEY,
  stack_name     TEXT NOT NULL,
  reconcile      TEXT NOT NULL,
  group_key      TEXT NOT NULL,
  rule           TEXT NOT NULL,
  system_of_record TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  severity       TEXT NOT NULL,
  first_run      INTEGER NOT NULL REFERENCES runs(id),
  first_seen_at  TEXT NOT NULL,
  last_run       INTEGER NOT NULL REFERENCES runs(id),
  last_seen_at   TEXT NOT NULL,
  resolved_run   INTEGER REFERENCES runs(id),
  resolved_at    TEXT,
  outcome        TEXT NOT NULL,
  left_ids       TEXT NOT NULL,
  right_ids      TEXT NOT NULL,
  expected       TEXT,
  actual         TEXT,
  delta          TEXT,
  message        TEXT NOT NULL,
  UNIQUE (stack_name, reconcile, group_key, rule)
);
CREATE TABLE exception_events (
  id           INTEGER PRIMARY KEY,
  exception_id INTEGER NOT NULL REFERENCES exceptions(id),
  run_id       INTEGER REFERENCES runs(id),
  at           TEXT NOT NULL,
  event        TEXT NOT NULL CHECK (event IN ('resolved', 'reopened', 'acknowledged')),
  by_whom      TEXT,
  note         TEXT
);
CREATE INDEX exception_events_by_exception ON exception_events(exception_id);
CREATE TRIGGER exceptions_no_delete BEFORE DELETE ON exceptions BEGIN SELECT RAISE(ABORT, 'exceptions are never deleted'); END;
CREATE TRIGGER events_no_update BEFORE UPDATE ON exception_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON exception_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL");
}

// v3: what finance totals and alerts need. Exceptions learn their record time and both
// sides' amounts (a variance report can then say left total, right total, net) and the
// exception that caused them (a load missing in the ERP behind a redemption's); runs
// record their --since/--until window; alert deliveries and their attempts are kept.
void migrate_v2_to_v3(Db& db) {
  db.exec(R"SQL(
ALTER TABLE runs ADD COLUMN window_since TEXT;
ALTER TABLE runs ADD COLUMN window_until TEXT;
ALTER TABLE exceptions ADD COLUMN record_at TEXT;
ALTER TABLE exceptions ADD COLUMN currency TEXT;
ALTER TABLE exceptions ADD COLUMN left_amount INTEGER;
ALTER TABLE exceptions ADD COLUMN right_amount INTEGER;
ALTER TABLE exceptions ADD COLUMN caused_by INTEGER REFERENCES exceptions(id);
-- Records a system's `only` filter leaves out are counted too: read = accepted + rejected + skipped.
CREATE TABLE run_inputs_v3 (
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  system        TEXT NOT NULL,
  path          TEXT NOT NULL,
  digest        TEXT NOT NULL,
  rows_read     INTEGER NOT NULL,
  rows_accepted INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  rows_skipped  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, system),
  CHECK (rows_read = rows_accepted + rows_rejected + rows_skipped)
) WITHOUT ROWID;
INSERT INTO run_inputs_v3 (run_id, system, path, digest, rows_read, rows_accepted, rows_rejected)
  SELECT run_id, system, path, digest, rows_read, rows_accepted, rows_rejected FROM run_inputs;
DROP TABLE run_inputs;
ALTER TABLE run_inputs_v3 RENAME TO run_inputs;
CREATE TABLE alert_deliveries (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id),
  alert       TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('ndjson_file', 'command', 'webhook')),
  target      TEXT NOT NULL,
  argv        TEXT NOT NULL,
  cwd         TEXT NOT NULL,
  max_attempts INTEGER NOT NULL,
  backoff_ms  INTEGER NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  exceptions  INTEGER NOT NULL,
  payload     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  created_at  TEXT NOT NULL,
  delivered_at TEXT
);
CREATE TABLE alert_attempts (
  delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id),
  attempt     INTEGER NOT NULL,
  at          TEXT NOT NULL,
  ok          INTEGER NOT NULL,
  error       TEXT,
  PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
CREATE TRIGGER alert_deliveries_no_delete BEFORE DELETE ON alert_deliveries BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER alert_attempts_no_update BEFORE UPDATE ON alert_attempts BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER alert_attempts_no_delete BEFORE DELETE ON alert_attempts BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL");
}

// v4: groups are stored in blocks, one row per up to kBlockGroups groups holding them as a
// JSON array, so the audit writer inserts a thousand times fewer rows; the `groups` view
// expands them (and still shows the rows older versions wrote), so every reader, view and
// the seal see the same groups as before.
void migrate_v3_to_v4(Db& db) {
  db.exec(R"SQL(
DROP VIEW failures;
DROP VIEW verdicts;
ALTER TABLE groups RENAME TO group_rows;
CREATE TABLE group_blocks (
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  first_group_no INTEGER NOT NULL,
  groups         TEXT NOT NULL,  -- [[reconcile_no, group_key, left_ids, right_ids, outcomes], ...]
                                 -- since v5 also: strategy_no, amount_delta, time_delta, similarity, matched_by
  PRIMARY KEY (run_id, first_group_no)
) WITHOUT ROWID;
CREATE TRIGGER group_blocks_no_update BEFORE UPDATE ON group_blocks BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER group_blocks_no_delete BEFORE DELETE ON group_blocks BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE VIEW groups AS
SELECT run_id, group_no, reconcile_no, group_key, left_ids, right_ids, outcomes FROM group_rows
UNION ALL
SELECT b.run_id, b.first_group_no + j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4
FROM group_blocks b, json_each(b.groups) j;
)SQL");
  db.exec(kVerdictViewsV1);
}

// v5: the audit chain (chain.hpp). Every change seam makes to what can change after a run
// is sealed (runs ending, exceptions and their events, acknowledgements, alert deliveries,
// the rule catalog) appends an entry sealing the whole state. The rule catalog learns
// which run added a rule, so a run still in progress is left out of the state until its
// own entry. The first entry seals the state the log had when it was upgraded: an edit
// made before that cannot be told, and the entry says so.
void migrate_v4_to_v5(Db& db) {
  db.exec(R"SQL(
ALTER TABLE rules ADD COLUMN added_by_run INTEGER REFERENCES runs(id);
CREATE TABLE chain (
  seq          INTEGER PRIMARY KEY,
  at           TEXT NOT NULL,
  event        TEXT NOT NULL,
  subject      TEXT NOT NULL,
  actor        TEXT,
  note         TEXT,
  tables       TEXT NOT NULL,  -- {"runs": digest, "exceptions": digest, ...} after this entry
  state_digest TEXT NOT NULL,
  prev_digest  TEXT NOT NULL,
  digest       TEXT NOT NULL
);
CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER exceptions_keep_identity BEFORE UPDATE OF id, stack_name, reconcile, group_key, rule, first_run,
  first_seen_at ON exceptions BEGIN SELECT RAISE(ABORT, 'an exception keeps its identity'); END;
-- How a reconciliation forms its groups, when it declares several strategies or keyless ones;
-- each group block entry then also holds its strategy_no (and for a keyless strategy the
-- amount delta, time delta and similarity it was paired with).
CREATE TABLE run_strategies (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  reconcile_no INTEGER NOT NULL,
  strategy_no  INTEGER NOT NULL,
  name         TEXT NOT NULL,
  definition   TEXT NOT NULL,
  PRIMARY KEY (run_id, reconcile_no, strategy_no)
) WITHOUT ROWID;
CREATE TRIGGER run_strategies_no_update BEFORE UPDATE ON run_strategies BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER run_strategies_no_delete BEFORE DELETE ON run_strategies BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
ALTER TABLE group_rows ADD COLUMN strategy_no INTEGER;
ALTER TABLE group_rows ADD COLUMN amount_delta INTEGER;
ALTER TABLE group_rows ADD COLUMN time_delta INTEGER;
ALTER TABLE group_rows ADD COLUMN similarity INTEGER;
ALTER TABLE group_rows ADD COLUMN matched_by TEXT;
DROP VIEW failures;
DROP VIEW verdicts;
DROP VIEW groups;
CREATE VIEW groups AS
SELECT run_id, group_no, reconcile_no, group_key, left_ids, right_ids, outcomes,
       strategy_no, amount_delta, time_delta, similarity, matched_by
FROM group_rows
UNION ALL
SELECT b.run_id, b.first_group_no + j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4,
       j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9
FROM group_blocks b, json_each(b.groups) j;
)SQL");
  db.exec(kVerdictViews);
  int64_t runs = 0;
  {
    Statement s(db, "SELECT count(*) FROM runs");
    s.step();
    runs = s.int_at(0);
  }
  append_chain_entry(db, {format_time_iso(clock_now()), "chain started", "audit log schema v5", "",
                          runs ? "seals the state of the " + std::to_string(runs) +
                                     " runs written before this upgrade as it was found"
                               : ""});
}

// v6: several causes may explain one exception (a card's balance gap behind two missing
// loads), each explaining part of its money: one row per (effect, cause) link, replaced at
// every run that sees the effect fail. exceptions.caused_by keeps naming the first cause.
// The table joins the sealed state once it holds a row (chain.cpp), so a log upgraded to
// v6 still matches the entry sealed before the upgrade.
void migrate_v5_to_v6(Db& db) {
  db.exec(R"SQL(
CREATE TABLE exception_causes (
  effect_id INTEGER NOT NULL REFERENCES exceptions(id),
  cause_id  INTEGER NOT NULL REFERENCES exceptions(id),
  explains  INTEGER,  -- the part of the effect's stake this cause explains, in minor units of
                      -- `currency` (base units when currency is NULL); NULL when not measured
  currency  TEXT,
  PRIMARY KEY (effect_id, cause_id)
) WITHOUT ROWID;
CREATE INDEX exception_causes_by_cause ON exception_causes(cause_id);
)SQL");
}

// v7: a source whose path is a glob reads several files; run_inputs keeps the system's
// totals (path: the pattern; digest: over the files' digests) and each file has a row
// here, counted and digested on its own. Sealed with its run, and in the chain's state.
void migrate_v6_to_v7(Db& db) {
  db.exec(R"SQL(
CREATE TABLE run_input_files (
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  system        TEXT NOT NULL,
  file_no       INTEGER NOT NULL,
  path          TEXT NOT NULL,
  digest        TEXT NOT NULL,
  rows_read     INTEGER NOT NULL,
  rows_accepted INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  rows_skipped  INTEGER NOT NULL,
  PRIMARY KEY (run_id, system, file_no),
  CHECK (rows_read = rows_accepted + rows_rejected + rows_skipped)
) WITHOUT ROWID;
CREATE TRIGGER run_input_files_no_update BEFORE UPDATE ON run_input_files BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER run_input_files_no_delete BEFORE DELETE ON run_input_files BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL");
}

// v8: a killed or failed run wrote only part of its verdicts, and its failures read like a
// whole run's. `failures` keeps complete runs only and names each one's stack and status;
// `failures_all_runs` shows every run's, partial ones included, with the status to tell them
// apart. Views only: nothing sealed changes.
void migrate_v7_to_v8(Db& db) {
  db.exec(R"SQL(
DROP VIEW failures;
CREATE VIEW failures_all_runs AS
SELECT v.*, r.stack_name, r.status AS run_status
FROM verdicts v JOIN runs r ON r.id = v.run_id
WHERE v.outcome IN ('fail', 'error');
CREATE VIEW failures AS
SELECT * FROM failures_all_runs WHERE run_status = 'complete';
)SQL");
}

// v9: exceptions a changed stack no longer evaluates are retired (ExceptionTracker::apply):
// their rule or reconciliation is no longer declared, or the reconciliation's keys are
// different keys now. `retired` is a status and an event; SQLite cannot change a CHECK in
// place, so both tables are rebuilt with every row, column (in the same order, so the
// chain's SELECT * digest of them is unchanged), index and trigger. A retirement names its
// run in resolved_run / resolved_at, as a resolution does: both end an exception's time as
// unresolved, the status tells which, and a new column would change the sealed shape of
// every upgraded log's exceptions. What decides a reconciliation's group keys is recorded
// per run in run_match_keys, so a later run can tell that an exception's key is no longer a
// key of that reconciliation; a table of its own joins the chain's state once it holds a
// row, and a run's seal covers its rows when it has any, so logs upgraded from v8 still
// verify and their runs hash as before.
void migrate_v8_to_v9(Db& db) {
  db.exec(R"SQL(
CREATE TABLE exceptions_v9 (
  id             INTEGER PRIMARY KEY,
  stack_name     TEXT NOT NULL,
  reconcile      TEXT NOT NULL,
  group_key      TEXT NOT NULL,
  rule           TEXT NOT NULL,
  system_of_record TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'retired')),
  severity       TEXT NOT NULL,
  first_run      INTEGER NOT NULL REFERENCES runs(id),
  first_seen_at  TEXT NOT NULL,
  last_run       INTEGER NOT NULL REFERENCES runs(id),
  last_seen_at   TEXT NOT NULL,
  resolved_run   INTEGER REFERENCES runs(id),  -- the run that resolved or retired it
  resolved_at    TEXT,
  outcome        TEXT NOT NULL,
  left_ids       TEXT NOT NULL,
  right_ids      TEXT NOT NULL,
  expected       TEXT,
  actual         TEXT,
  delta          TEXT,
  message        TEXT NOT NULL,
  record_at      TEXT,
  currency       TEXT,
  left_amount    INTEGER,
  right_amount   INTEGER,
  caused_by      INTEGER REFERENCES exceptions(id),
  UNIQUE (stack_name, reconcile, group_key, rule)
);
INSERT INTO exceptions_v9 (id, stack_name, reconcile, group_key, rule, system_of_record, status, severity, first_run,
  first_seen_at, last_run, last_seen_at, resolved_run, resolved_at, outcome, left_ids, right_ids, expected, actual,
  delta, message, record_at, currency, left_amount, right_amount, caused_by)
SELECT id, stack_name, reconcile, group_key, rule, system_of_record, status, severity, first_run,
  first_seen_at, last_run, last_seen_at, resolved_run, resolved_at, outcome, left_ids, right_ids, expected, actual,
  delta, message, record_at, currency, left_amount, right_amount, caused_by FROM exceptions ORDER BY id;
DROP TABLE exceptions;
ALTER TABLE exceptions_v9 RENAME TO exceptions;
CREATE TRIGGER exceptions_no_delete BEFORE DELETE ON exceptions BEGIN SELECT RAISE(ABORT, 'exceptions are never deleted'); END;
CREATE TRIGGER exceptions_keep_identity BEFORE UPDATE OF id, stack_name, reconcile, group_key, rule, first_run,
  first_seen_at ON exceptions BEGIN SELECT RAISE(ABORT, 'an exception keeps its identity'); END;

CREATE TABLE exception_events_v9 (
  id           INTEGER PRIMARY KEY,
  exception_id INTEGER NOT NULL REFERENCES exceptions(id),
  run_id       INTEGER REFERENCES runs(id),
  at           TEXT NOT NULL,
  event        TEXT NOT NULL CHECK (event IN ('resolved', 'reopened', 'acknowledged', 'retired')),
  by_whom      TEXT,
  note         TEXT  -- an acknowledgement's reason; a retirement's (what the stack no longer declares)
);
INSERT INTO exception_events_v9 (id, exception_id, run_id, at, event, by_whom, note)
SELECT id, exception_id, run_id, at, event, by_whom, note FROM exception_events ORDER BY id;
DROP TABLE exception_events;
ALTER TABLE exception_events_v9 RENAME TO exception_events;
CREATE INDEX exception_events_by_exception ON exception_events(exception_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON exception_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON exception_events BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE run_match_keys (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  reconcile_no INTEGER NOT NULL,
  definition   TEXT NOT NULL,  -- what decides the group keys (engine/spec/match_keys.hpp)
  PRIMARY KEY (run_id, reconcile_no)
) WITHOUT ROWID;
CREATE TRIGGER run_match_keys_no_update BEFORE UPDATE ON run_match_keys BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER run_match_keys_no_delete BEFORE DELETE ON run_match_keys BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)SQL");
  // Foreign keys are off while migrating (migrate_audit_schema): the rebuilt tables' rows
  // must still reference what they did.
  for (const char* table : {"exceptions", "exception_events", "exception_causes"}) {
    Statement check(db, std::string("PRAGMA foreign_key_check(") + table + ")");
    if (check.step())
      throw AuditError("audit log " + db.path() + ": upgrading to schema v9 left " + table +
                       " rows referencing a missing row (" + check.text_at(2) + "); the log was left at v8");
  }
}

}  // namespace

std::unique_ptr<Db> open_audit_log_for_reading(const std::string& path) {
  auto read_version = [](Db& db) {
    Statement s(db, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.int_at(0));
  };
  auto db = std::make_unique<Db>(path, Db::Mode::ReadOnly);
  int v = read_version(*db);
  if (v == kAuditSchemaVersion) return db;
  if (v > kAuditSchemaVersion)
    throw AuditError("audit log " + path + " has schema version " + std::to_string(v) +
                     ", newer than this seam understands (" + std::to_string(kAuditSchemaVersion) + "); upgrade seam");
  {
    Statement s(*db, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'");
    s.step();
    if (s.int_at(0) == 0) throw AuditError(path + " is not a seam audit log (it has no runs table)");
  }
  db.reset();
  try {
    Db writable(path, Db::Mode::ReadWrite);
    migrate_audit_schema(writable);
  } catch (const StorageError& e) {
    throw StorageError("audit log " + path + " has schema version " + std::to_string(v) + " and this seam reads " +
                       std::to_string(kAuditSchemaVersion) + "; it cannot be upgraded where it is (" + e.what() +
                       "): copy it to a writable folder and read the copy");
  }
  return std::make_unique<Db>(path, Db::Mode::ReadOnly);
}

void migrate_audit_schema(Db& db, int target) {
  static const std::vector<std::function<void(Db&)>> steps = {migrate_v0_to_v1, migrate_v1_to_v2, migrate_v2_to_v3,
                                                              migrate_v3_to_v4, migrate_v4_to_v5,
                                                              migrate_v5_to_v6, migrate_v6_to_v7, migrate_v7_to_v8,
                                                              migrate_v8_to_v9};
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  // Off while migrating: a step that rebuilds a table other tables reference (v9's
  // exceptions) drops it first, which SQLite refuses with them on (its documented
  // procedure for the table changes ALTER TABLE cannot make); such a step checks the
  // references it touched before it commits. On again for everything after, however this ends.
  db.exec("PRAGMA foreign_keys = OFF");
  struct ForeignKeysOn {
    Db& db;
    ~ForeignKeysOn() {
      try {
        db.exec("PRAGMA foreign_keys = ON");
      } catch (...) {
      }
    }
  } foreign_keys_on{db};
  // 16 MB of page cache (SQLite's default is 2 MB): the groups a run appends are written
  // once and not read again, so more would only hold clean pages while the records are
  // still in memory. The seal raises it (AuditLog::complete_run).
  db.exec("PRAGMA cache_size = -16384");
  for (;;) {
    Transaction tx(db, "BEGIN IMMEDIATE");  // two seams migrating at once: one waits
    Statement version(db, "PRAGMA user_version");
    version.step();
    int v = static_cast<int>(version.int_at(0));
    version.reset();
    if (v > kAuditSchemaVersion)
      throw AuditError("audit log " + db.path() + " has schema version " + std::to_string(v) +
                       ", newer than this seam understands (" + std::to_string(kAuditSchemaVersion) +
                       "); upgrade seam");
    if (v >= target) {
      tx.commit();
      return;
    }
    steps[static_cast<size_t>(v)](db);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
}

}  // namespace seam
