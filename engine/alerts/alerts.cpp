#include "engine/alerts/alerts.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/alerts/sinks.hpp"
#include "engine/audit/chain.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/value/clock.hpp"
#include "engine/value/money.hpp"

namespace seam {

void sleep_ms(int milliseconds) { std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds)); }

namespace {

struct NewException {
  std::string severity, json;  // json: the exception as one JSON object
};

// The exceptions run `run_id` opened, or reopened after they had been resolved.
std::vector<NewException> new_exceptions(Db& db, const std::string& stack, int64_t run_id) {
  Statement s(db,
              "SELECT id, CASE WHEN first_run = ?2 THEN 'opened' ELSE 'reopened' END, reconcile, group_key, rule, "
              "severity, status, system_of_record, coalesce(record_at, ''), coalesce(currency, ''), left_amount, "
              "right_amount, coalesce(delta, ''), message, first_seen_at FROM exceptions WHERE stack_name = ?1 AND "
              "(first_run = ?2 OR id IN (SELECT exception_id FROM exception_events WHERE run_id = ?2 AND "
              "event = 'reopened')) ORDER BY id");
  s.bind(1, stack).bind(2, run_id);
  std::vector<NewException> out;
  while (s.step()) {
    CurrencyCode cur = pack_currency(s.text_at(9));
    bool amounts = cur && !s.is_null(10);
    JsonWriter j;
    j.begin_object().key("id").value(s.int_at(0)).key("event").value(s.text_at(1)).key("reconcile").value(s.text_at(2));
    j.key("key").value(s.text_at(3)).key("rule").value(s.text_at(4)).key("severity").value(s.text_at(5));
    j.key("status").value(s.text_at(6)).key("system_of_record").value(s.text_at(7));
    j.key("record_at").optional(!s.text_at(8).empty(), s.text_at(8));
    j.key("left_amount").optional(amounts, amounts ? format_money(s.int_at(10), cur) : "");
    j.key("right_amount").optional(amounts, amounts ? format_money(s.int_at(11), cur) : "");
    j.key("delta").optional(!s.text_at(12).empty(), s.text_at(12)).key("message").value(s.text_at(13));
    j.key("first_seen_at").value(s.text_at(14)).end_object();
    out.push_back({s.text_at(5), j.str()});
  }
  return out;
}

// A file gets one line per exception; a command or webhook one JSON document.
std::string payload_for(const AlertSpec& a, const std::string& stack, int64_t run_id,
                        const std::vector<const NewException*>& items) {
  JsonWriter head;
  head.begin_object().key("stack").value(stack).key("run_id").value(run_id).key("alert").value(a.name);
  std::string prefix = head.str();  // `{"stack":...,"alert":"x"` without its closing brace
  if (a.kind == "ndjson_file") {
    std::string out;
    for (const auto* e : items) out += prefix + "," + e->json.substr(1) + "\n";
    return out;
  }
  std::string out = prefix + ",\"exceptions\":[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i]->json;
  return out + "]}";
}

struct Stored {
  AlertDelivery d;
  std::vector<std::string> argv;
  std::string cwd, payload;
  int backoff_ms = 0, timeout_seconds = 0;
};

std::string attempt(const Stored& s) {
  if (s.d.kind == "ndjson_file") return append_to_file(s.d.target, s.payload);
  if (s.d.kind == "command") return run_command(s.argv, s.cwd, s.payload, s.timeout_seconds);
  return post_webhook(s.d.target, s.payload, s.timeout_seconds);
}

// Up to max_attempts tries, each recorded (numbered on from any earlier round); waits
// backoff, 2x backoff, 4x ... in between.
void deliver(Db& db, Stored& s, const Sleep& sleep) {
  Statement record(db, "INSERT INTO alert_attempts (delivery_id, attempt, at, ok, error) VALUES (?1, ?2, ?3, ?4, ?5)");
  Statement update(db,
                   "UPDATE alert_deliveries SET attempts = ?2, status = ?3, last_error = ?4, delivered_at = ?5 "
                   "WHERE id = ?1");
  // Settings stored by an older seam were not bounded when its stack loaded.
  s.timeout_seconds = std::clamp(s.timeout_seconds, AlertBounds::kMinTimeoutSeconds, AlertBounds::kMaxTimeoutSeconds);
  s.backoff_ms = std::clamp(s.backoff_ms, AlertBounds::kMinBackoffMs, AlertBounds::kMaxBackoffMs);
  s.d.max_attempts = std::clamp<int64_t>(s.d.max_attempts, AlertBounds::kMinAttempts, AlertBounds::kMaxAttempts);
  for (int64_t n = 0; n < s.d.max_attempts; ++n) {
    // Doubling in 64 bits, then capped: backoff << 16 overflows an int.
    if (n > 0)
      sleep(static_cast<int>(std::min<int64_t>(int64_t{s.backoff_ms} << std::min<int64_t>(n - 1, 16),
                                               AlertBounds::kMaxBackoffMs)));
    std::string error = attempt(s);
    std::string at = format_time_iso(clock_now());
    ++s.d.attempts;
    bool ok = error.empty();
    bool last = ok || n + 1 == s.d.max_attempts;
    s.d.status = ok ? "delivered" : last ? "failed" : "pending";
    s.d.last_error = error;
    if (ok) s.d.delivered_at = at;
    Transaction tx(db, "BEGIN IMMEDIATE");
    require_sealed_state(db);
    record.bind(1, s.d.id).bind(2, s.d.attempts).bind(3, at).bind(4, int64_t{ok}).bind_optional(5, error).run();
    update.bind(1, s.d.id).bind(2, s.d.attempts).bind(3, s.d.status).bind_optional(4, error);
    update.bind_optional(5, s.d.delivered_at).run();
    append_chain_entry(db, {at, ok ? "alert delivered" : "alert attempt failed",
                            "alert delivery " + std::to_string(s.d.id) + " attempt " + std::to_string(s.d.attempts),
                            "", error});
    tx.commit();
    if (ok) return;
  }
}

std::string argv_json(const std::vector<std::string>& argv) {
  JsonWriter j;
  j.begin_array();
  for (const auto& a : argv) j.value(a);
  j.end_array();
  return j.str();
}

std::vector<std::string> argv_from_json(const std::string& text) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return out;
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) return out;
  for (auto v : arr) {
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

constexpr const char* kDeliveryColumns =
    "id, run_id, alert, kind, target, status, coalesce(last_error, ''), created_at, coalesce(delivered_at, ''), "
    "exceptions, attempts, max_attempts, argv, cwd, payload, backoff_ms, timeout_seconds";

Stored read_delivery(const Statement& s) {
  Stored out;
  AlertDelivery& d = out.d;
  d.id = s.int_at(0);
  d.run_id = s.int_at(1);
  d.alert = s.text_at(2);
  d.kind = s.text_at(3);
  d.target = s.text_at(4);
  d.status = s.text_at(5);
  d.last_error = s.text_at(6);
  d.created_at = s.text_at(7);
  d.delivered_at = s.text_at(8);
  d.exceptions = s.int_at(9);
  d.attempts = s.int_at(10);
  d.max_attempts = s.int_at(11);
  out.argv = argv_from_json(s.text_at(12));
  out.cwd = s.text_at(13);
  out.payload = s.text_at(14);
  out.backoff_ms = static_cast<int>(s.int_at(15));
  out.timeout_seconds = static_cast<int>(s.int_at(16));
  return out;
}

}  // namespace

std::vector<AlertDelivery> send_alerts(Db& db, const StackSpec& spec, int64_t run_id, const Sleep& sleep) {
  std::vector<AlertDelivery> out;
  if (spec.alerts.empty()) return out;
  std::vector<NewException> fresh = new_exceptions(db, spec.name, run_id);
  std::vector<Stored> planned;
  std::string now = format_time_iso(clock_now());
  {
    // Recorded before the first attempt: a run killed while delivering leaves them pending.
    Transaction tx(db, "BEGIN IMMEDIATE");
    require_sealed_state(db);
    Statement ins(db,
                  "INSERT INTO alert_deliveries (run_id, alert, kind, target, argv, cwd, max_attempts, backoff_ms, "
                  "timeout_seconds, exceptions, payload, status, created_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12)");
    for (const auto& a : spec.alerts) {
      std::vector<const NewException*> items;
      for (const auto& e : fresh)
        if (auto sev = parse_severity(e.severity); sev && *sev >= a.min_severity) items.push_back(&e);
      if (items.empty()) continue;
      Stored s;
      s.d = {0, run_id, a.name, a.kind, a.target, "pending", "", now, "", static_cast<int64_t>(items.size()), 0,
             a.attempts};
      s.argv = a.argv;
      s.cwd = std::filesystem::absolute(spec.dir).lexically_normal().string();  // retried from anywhere
      s.payload = payload_for(a, spec.name, run_id, items);
      s.backoff_ms = a.backoff_ms;
      s.timeout_seconds = a.timeout_seconds;
      std::string argv = argv_json(s.argv);
      ins.bind(1, run_id).bind(2, a.name).bind(3, a.kind).bind(4, a.target).bind(5, argv).bind(6, s.cwd);
      ins.bind(7, int64_t{a.attempts}).bind(8, int64_t{a.backoff_ms}).bind(9, int64_t{a.timeout_seconds});
      ins.bind(10, s.d.exceptions).bind(11, s.payload).bind(12, now).run();
      s.d.id = db.last_insert_id();
      planned.push_back(std::move(s));
    }
    if (!planned.empty())
      append_chain_entry(db, {now, "alerts planned", "run " + std::to_string(run_id), "",
                              std::to_string(planned.size()) + " deliveries"});
    tx.commit();
  }
  for (auto& s : planned) {
    deliver(db, s, sleep);
    out.push_back(s.d);
  }
  return out;
}

std::vector<AlertDelivery> retry_alerts(Db& db, const std::vector<int64_t>& ids, const Sleep& sleep) {
  std::vector<Stored> to_send;
  {
    Statement s(db, std::string("SELECT ") + kDeliveryColumns +
                        " FROM alert_deliveries WHERE status IN ('failed', 'pending') ORDER BY id");
    while (s.step()) {
      Stored d = read_delivery(s);
      if (ids.empty() || std::find(ids.begin(), ids.end(), d.d.id) != ids.end()) to_send.push_back(std::move(d));
    }
  }
  for (int64_t id : ids)
    if (std::none_of(to_send.begin(), to_send.end(), [&](const Stored& s) { return s.d.id == id; }))
      throw UserError("no failed or pending alert delivery " + std::to_string(id) + " (see seam alerts --status all)");
  std::vector<AlertDelivery> out;
  for (auto& s : to_send) {
    deliver(db, s, sleep);  // a fresh round of attempts, numbered on from the earlier ones
    out.push_back(s.d);
  }
  return out;
}

std::vector<AlertDelivery> list_alert_deliveries(Db& db, const std::string& status) {
  Statement s(db, std::string("SELECT ") + kDeliveryColumns +
                      " FROM alert_deliveries WHERE ?1 = 'all' OR status = ?1 ORDER BY id DESC");
  s.bind(1, status);
  std::vector<AlertDelivery> out;
  while (s.step()) out.push_back(read_delivery(s).d);
  return out;
}

}  // namespace seam
