#pragma once
// Exceptions as durable state across runs, keyed by (stack, reconciliation, group key,
// rule): opened by the first failing verdict, refreshed by each later one, resolved when a
// later run evaluates the same rule on the same key and it no longer fails, reopened if
// it fails again, acknowledged by a person. Never deleted; every status change after the
// opening is an event in the audit log. Written in the same transaction as the run's seal.
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/run/runner.hpp"

namespace seam {

class ExceptionTracker {
 public:
  // Loads the stack's open and acknowledged exceptions.
  ExceptionTracker(Db& db, const std::string& stack_name);

  // During evaluation, per group: notes rules that now pass (or skip) on a key that has an
  // open exception. One hash lookup per group when nothing is open for its key.
  void observe(const ReconcileSpec& rec, std::string_view key, const std::vector<Verdict>& verdicts);

  // Opens, refreshes, reopens and resolves, inside the caller's transaction: the run's
  // sealing one, so exceptions change exactly when a sealed run says they should.
  ExceptionChanges apply(Db& db, int64_t run_id, const std::string& at, const std::vector<ReconcileReport>& reports);

 private:
  static std::string id_key(std::string_view reconcile, std::string_view key, std::string_view rule);
  std::string stack_;
  struct Known {
    int64_t id;
    bool resolved;
  };
  std::unordered_map<std::string, std::unordered_set<std::string>> open_keys_;  // reconcile → keys with open ones
  std::unordered_map<std::string, Known> known_;  // id_key → every exception of the stack, loaded once
  size_t open_count_ = 0;
  std::vector<int64_t> passing_;                  // open ones that now pass
};

struct ExceptionRow {
  int64_t id = 0;
  std::string status, reconcile, key, rule, system_of_record, severity, first_seen_at, last_seen_at, delta, message;
  int64_t first_run = 0, last_run = 0, resolved_run = 0, age_days = 0;
  std::string record_at;     // the group's record time; empty when its systems declare none
  // Both sides' amounts in minor units of `currency` (has_amounts false when not known).
  bool has_amounts = false;
  int64_t left_amount = 0, right_amount = 0;
  // Money at stake: |right - left| when both amounts are known, else |delta| when the delta
  // is money, else 0.
  int64_t amount_minor = 0;
  CurrencyCode currency = 0;
  // What periods and --since/--until go by: the record time, else the first detection.
  const std::string& when() const { return record_at.empty() ? first_seen_at : record_at; }
};

// Exceptions with `status` ("open", "acknowledged", "unresolved" for both, "resolved" or
// "all"), in id order. Age is counted in whole days from first detection to `now_iso`.
std::vector<ExceptionRow> list_exceptions(Db& db, const std::string& status, const std::string& now_iso);
// Acknowledges an open exception; throws UserError when it is not open.
void acknowledge_exception(Db& db, int64_t id, const std::string& by, const std::string& note, const std::string& at);

}  // namespace seam
