#pragma once
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/value/money.hpp"

namespace seam {

struct TraceRow {
  int64_t run_id = 0;
  // left_ids, right_ids: as stored (read_id_list parses either form).
  std::string run_started, run_status, reconcile, group_key, left_ids, right_ids;
  std::string rule, rule_kind, rule_version, rule_source, outcome, severity;
  std::string expected, actual, delta, message;
  std::string matched_by;  // the match strategy that formed the group, and how close; empty if none recorded
  int64_t first_failed_run = 0;  // earliest run where this rule failed for this key; 0 if never
};

// One link between two exceptions, seen from one end: the exception at the other end,
// and how much of the effect's stake the cause explains.
struct TraceLink {
  int64_t id = 0;
  std::string exception;  // "#4 loads_reach_erp / exists in right on GC-7 (open)"
  bool measured = false;  // explains and of are known (explains = "any" measures nothing)
  int64_t explains = 0, of = 0;  // minor units of currency, or base units when it is 0
  CurrencyCode currency = 0;
};

// An exception about the key with its place in a chain of causes.
struct TraceException {
  int64_t id = 0;
  std::string reconcile, rule, status;
  std::string cause;                      // the first cause, in TraceLink::exception's form, or empty
  std::vector<TraceLink> causes;          // every cause that explains it, in id order
  std::vector<std::string> consequences;  // the same form, for each exception it causes
  std::vector<TraceLink> consequence_links;  // the same, with what this one explains of each
  // When a cause is measured: the exception's stake, and the part its causes explain.
  bool measured = false;
  int64_t of = 0, explained = 0;
  CurrencyCode currency = 0;
};

// Every verdict about `key` (a group key or a record id on either side), newest run first.
std::vector<TraceRow> trace_key(Db& db, const std::string& key);
// The exceptions keyed by `key`, each with its root cause and its consequences.
std::vector<TraceException> trace_exceptions(Db& db, const std::string& key);
std::string render_trace_text(const std::string& key, const std::vector<TraceRow>& rows,
                              const std::vector<TraceException>& exceptions);
std::string render_trace_json(const std::string& key, const std::vector<TraceRow>& rows,
                              const std::vector<TraceException>& exceptions);

}  // namespace seam
