#pragma once
// Alerts: at the end of a run, the exceptions it opened or reopened at or above each
// declared alert's severity go to that alert's sink. Every delivery is recorded in the
// audit log before it is tried (a killed run leaves it 'pending', not forgotten), each
// attempt is recorded, and attempts back off exponentially. A delivery that still fails
// stays 'failed' with its payload, visible in `seam alerts` and sent again by
// `seam alerts retry`.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// Bounds on an alert's delivery settings, checked when the stack loads (the DSL reports
// a value outside them at the alert's file:line) and again before a stored delivery is
// retried, so a row written by an older seam cannot wait for days or never time out.
// timeout_seconds: curl and the command runner read 0 as "no timeout", so 1 is the least.
// backoff_ms: the first wait; each later wait doubles, and no single wait exceeds the max.
struct AlertBounds {
  static constexpr int kMinAttempts = 1, kMaxAttempts = 20;
  static constexpr int kMinBackoffMs = 0, kMaxBackoffMs = 600'000;  // 10 minutes
  static constexpr int kMinTimeoutSeconds = 1, kMaxTimeoutSeconds = 300;
};

struct AlertDelivery {
  int64_t id = 0, run_id = 0;
  std::string alert, kind, target, status, last_error, created_at, delivered_at;
  int64_t exceptions = 0, attempts = 0, max_attempts = 0;
};

// How a delivery waits between attempts; tests may pass one that does not sleep.
using Sleep = std::function<void(int milliseconds)>;
void sleep_ms(int milliseconds);

// Plans, records and delivers the run's alerts; returns one delivery per alert that had
// something to send. Never throws for a delivery that fails: that is recorded instead.
std::vector<AlertDelivery> send_alerts(Db& db, const StackSpec& spec, int64_t run_id, const Sleep& sleep = sleep_ms);

// Sends again every failed or pending delivery (or only those in `ids`) with its stored
// payload and settings.
std::vector<AlertDelivery> retry_alerts(Db& db, const std::vector<int64_t>& ids, const Sleep& sleep = sleep_ms);

// status: pending, delivered, failed or all; newest first.
std::vector<AlertDelivery> list_alert_deliveries(Db& db, const std::string& status);

}  // namespace seam
