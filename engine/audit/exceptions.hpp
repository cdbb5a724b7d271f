#pragma once
// Exceptions as durable state across runs, keyed by (stack, reconciliation, group key,
// rule): opened by the first failing verdict, refreshed by each later one, resolved when a
// later run evaluates the same rule on the same key and it no longer fails, retired when a
// changed stack can no longer evaluate it (its rule or reconciliation is gone, or the
// reconciliation's keys are other keys now), reopened if it fails again, acknowledged by a
// person. Never deleted; every status change after the opening is an event in the audit
// log. Written in the same transaction as the run's seal.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/rules/findings.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

struct ExceptionChanges {
  uint64_t opened = 0, reopened = 0, refreshed = 0, resolved = 0;
  uint64_t retired = 0;  // no longer evaluated by the changed stack (ExceptionTracker::apply)
};

class ExceptionTracker {
 public:
  // Loads the stack's open and acknowledged exceptions.
  ExceptionTracker(Db& db, const std::string& stack_name);
  // observe() keeps a pointer into its own tables.
  ExceptionTracker(const ExceptionTracker&) = delete;
  ExceptionTracker& operator=(const ExceptionTracker&) = delete;

  // During evaluation, per group: notes rules that now pass (or skip) on a key that has an
  // open exception. A group whose key has none costs a look at two bits (OpenKeys).
  void observe(const ReconcileSpec& rec, std::string_view key, const std::vector<Verdict>& verdicts);

  // Opens, refreshes, reopens, resolves and retires, inside the caller's transaction: the
  // run's sealing one, so exceptions change exactly when a sealed run says they should.
  // `declared` is the stack the run evaluated, when it looked at all of it; a windowed run
  // passes nullptr and retires nothing (it did not look at the keys outside its window, and
  // the next whole run retires what is left).
  ExceptionChanges apply(Db& db, int64_t run_id, const std::string& at, const std::vector<ReconcileReport>& reports,
                         const StackSpec* declared);

 private:
  static std::string id_key(std::string_view reconcile, std::string_view key, std::string_view rule);
  uint64_t retire(Db& db, int64_t run_id, const std::string& at, const StackSpec& declared);
  std::string stack_;
  struct Known {
    int64_t id;
    bool closed;  // resolved or retired: failing again reopens it
  };
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct OpenOne {
    std::string rule;
    int64_t id;
  };
  // A reconciliation's keys with open (or acknowledged) exceptions. Every group of a run
  // asks, and most keys have none: a hash table of strings cost a run over a million groups
  // 0.75 s in cache misses, more than all its rules. A filter of two bits per key first (16
  // bits a key, so it mostly stays in the cache, and about 97 of 100 keys with none are
  // answered by it alone), then the table.
  struct OpenKeys {
    std::unordered_map<std::string, std::vector<OpenOne>, TextHash, std::equal_to<>> by_key;
    std::vector<uint64_t> filter;
    uint64_t mask = 0;  // filter words - 1
    void seal();        // builds the filter, once by_key holds every key
    bool may_hold(uint64_t hash) const;
  };
  std::unordered_map<std::string, OpenKeys> open_;  // reconcile → its keys with open exceptions
  const ReconcileSpec* last_reconcile_ = nullptr;    // observe's last reconciliation and its keys
  const OpenKeys* last_open_ = nullptr;
  std::unordered_map<std::string, Known> known_;  // id_key → every exception of the stack, loaded once
  size_t open_count_ = 0;
  std::vector<int64_t> passing_;                  // open ones that now pass
};

struct ExceptionRow {
  int64_t id = 0;
  std::string status, reconcile, key, rule, system_of_record, severity, first_seen_at, last_seen_at, delta, message;
  // resolved_run: the run that resolved it, or that retired it (the status tells which).
  int64_t first_run = 0, last_run = 0, resolved_run = 0, age_days = 0;
  std::string retired_because;  // a retired one's reason, as its `retired` event says
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

// Exceptions with `status` ("open", "acknowledged", "unresolved" for both, "resolved",
// "retired" or "all"), in id order. Age is counted in whole days from first detection to `now_iso`.
std::vector<ExceptionRow> list_exceptions(Db& db, const std::string& status, const std::string& now_iso);
// Acknowledges an open exception; throws UserError when it is not open.
void acknowledge_exception(Db& db, int64_t id, const std::string& by, const std::string& note, const std::string& at);

}  // namespace seam
