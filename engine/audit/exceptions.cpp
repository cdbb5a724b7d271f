#include "engine/audit/exceptions.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>

#include "engine/audit/causes.hpp"
#include "engine/audit/chain.hpp"
#include "engine/util/result.hpp"
#include "engine/value/time.hpp"

namespace seam {

std::string ExceptionTracker::id_key(std::string_view reconcile, std::string_view key, std::string_view rule) {
  std::string k;
  k.reserve(reconcile.size() + key.size() + rule.size() + 2);
  k.append(reconcile).push_back('\x1f');
  k.append(key).push_back('\x1f');
  k.append(rule);
  return k;
}

// Both of a key's bits in one 64-bit word, so that a look costs one memory access: the
// word from the hash's low bits, the two bits from its high ones.
namespace {
uint64_t filter_bits(uint64_t h) { return (uint64_t{1} << (h >> 52 & 63)) | (uint64_t{1} << (h >> 58)); }
}  // namespace

void ExceptionTracker::OpenKeys::seal() {
  size_t words = 1;
  while (words * 64 < by_key.size() * 16) words <<= 1;
  filter.assign(words, 0);
  mask = words - 1;
  for (const auto& entry : by_key) {
    const uint64_t h = TextHash{}(entry.first);
    filter[h & mask] |= filter_bits(h);
  }
}

bool ExceptionTracker::OpenKeys::may_hold(uint64_t h) const {
  const uint64_t bits = filter_bits(h);
  return (filter[h & mask] & bits) == bits;
}

ExceptionTracker::ExceptionTracker(Db& db, const std::string& stack_name) : stack_(stack_name) {
  // Sized before they are filled: growing them rehashed every key, twice the time of the
  // filling. The counts come from the exceptions' unique index alone (stack, reconcile, ...).
  {
    Statement counts(db, "SELECT reconcile, count(*) FROM exceptions WHERE stack_name = ?1 GROUP BY reconcile");
    counts.bind(1, stack_);
    size_t total = 0;
    while (counts.step()) {
      open_[counts.text_at(0)].by_key.reserve(static_cast<size_t>(counts.int_at(1)));  // closed ones included
      total += static_cast<size_t>(counts.int_at(1));
    }
    known_.reserve(total);
  }
  // All of them, resolved and retired ones included, so applying a run needs no lookup per failure.
  Statement s(db, "SELECT id, reconcile, group_key, rule, status FROM exceptions WHERE stack_name = ?1");
  s.bind(1, stack_);
  while (s.step()) {
    std::string reconcile = s.text_at(1), key = s.text_at(2), rule = s.text_at(3);
    bool closed = s.text_at(4) == "resolved" || s.text_at(4) == "retired";
    known_[id_key(reconcile, key, rule)] = {s.int_at(0), closed};
    if (!closed) {
      open_[reconcile].by_key[std::move(key)].push_back({std::move(rule), s.int_at(0)});
      ++open_count_;
    }
  }
  std::erase_if(open_, [](const auto& entry) { return entry.second.by_key.empty(); });  // all closed there
  for (auto& [reconcile, keys] : open_) keys.seal();
}

void ExceptionTracker::observe(const ReconcileSpec& rec, std::string_view key, const std::vector<Verdict>& verdicts) {
  if (open_count_ == 0) return;
  if (&rec != last_reconcile_) {
    auto it = open_.find(rec.name);
    last_reconcile_ = &rec;
    last_open_ = it == open_.end() ? nullptr : &it->second;
  }
  if (!last_open_ || !last_open_->may_hold(TextHash{}(key))) return;
  auto open = last_open_->by_key.find(key);
  if (open == last_open_->by_key.end()) return;
  // In rule order, as the seal's resolving events are written.
  for (size_t k = 0; k < verdicts.size(); ++k) {
    if (is_exception(verdicts[k].outcome)) continue;
    for (const OpenOne& o : open->second)
      if (o.rule == rec.rules[k].name) passing_.push_back(o.id);
  }
}

namespace {

// record_at, currency, left_amount, right_amount from position `first` on. Statements bind
// text without copying, so the formatted strings live in `keep` until the statement runs.
void bind_facts(Statement& s, int first, const Finding& f, std::deque<std::string>& keep) {
  const std::string& at = keep.emplace_back(f.at == INT64_MIN ? std::string() : format_time_iso(f.at));
  s.bind_optional(first, at);
  if (f.currency) {
    const std::string& cur = keep.emplace_back(currency_name(f.currency));
    s.bind(first + 1, cur).bind(first + 2, f.left_amount).bind(first + 3, f.right_amount);
  } else {
    s.bind_null(first + 1).bind_null(first + 2).bind_null(first + 3);
  }
}

}  // namespace

ExceptionChanges ExceptionTracker::apply(Db& db, int64_t run_id, const std::string& at,
                                         const std::vector<ReconcileReport>& reports, const StackSpec* declared) {
  ExceptionChanges changes;
  // New exceptions go in many rows per INSERT: a first run over a large backlog opens tens of
  // thousands at once.
  constexpr size_t kRows = 32, kCols = 21;
  auto insert_sql = [&](size_t rows) {
    std::string sql = "INSERT INTO exceptions (stack_name, reconcile, group_key, rule, status, severity, first_run, "
                      "first_seen_at, last_run, last_seen_at, outcome, left_ids, right_ids, expected, actual, delta, "
                      "message, system_of_record, record_at, currency, left_amount, right_amount) VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      size_t b = r * kCols;
      sql += r ? ", (" : "(";
      for (size_t c = 1; c <= kCols; ++c) {
        sql += "?" + std::to_string(b + c) + (c < kCols ? ", " : ")");
        if (c == 4) sql += "'open', ";
      }
    }
    return sql;
  };
  Statement insert_one(db, insert_sql(1)), insert_many(db, insert_sql(kRows));
  std::vector<std::pair<const ReconcileReport*, const Finding*>> fresh;
  std::deque<std::string> keep;
  auto flush = [&](Statement& stmt, size_t first, size_t count) {
    for (size_t r = 0; r < count; ++r) {
      const auto& [rec, f] = fresh[first + r];
      const Verdict& v = f->verdict;
      int b = static_cast<int>(r * kCols);
      stmt.bind(b + 1, stack_).bind(b + 2, rec->name).bind(b + 3, f->key).bind(b + 4, f->rule);
      stmt.bind(b + 5, severity_name(f->severity)).bind(b + 6, run_id).bind(b + 7, at).bind(b + 8, run_id).bind(b + 9, at);
      stmt.bind(b + 10, outcome_name(f->outcome)).bind(b + 11, f->left_ids).bind(b + 12, f->right_ids);
      stmt.bind_optional(b + 13, v.expected).bind_optional(b + 14, v.actual).bind_optional(b + 15, v.delta);
      stmt.bind(b + 16, v.message).bind(b + 17, rec->system_of_record);
      bind_facts(stmt, b + 18, *f, keep);
    }
    stmt.run();
  };
  // Still-failing exceptions are refreshed many rows per UPDATE too: a run over a log
  // that already holds its exceptions refreshes every one of them, and one statement per
  // row cost three times what SQLite spends rewriting the rows.
  constexpr size_t kRefreshCols = 15;
  auto refresh_sql = [&](size_t rows) {
    std::string sql = "UPDATE exceptions SET last_run = v.column2, last_seen_at = v.column3, outcome = v.column4, "
                      "left_ids = v.column5, right_ids = v.column6, expected = v.column7, actual = v.column8, "
                      "delta = v.column9, message = v.column10, severity = v.column11, record_at = v.column12, "
                      "currency = v.column13, left_amount = v.column14, right_amount = v.column15, "
                      "status = CASE WHEN status IN ('resolved', 'retired') THEN 'open' ELSE status END, "
                      "resolved_run = CASE WHEN status IN ('resolved', 'retired') THEN NULL ELSE resolved_run END, "
                      "resolved_at = CASE WHEN status IN ('resolved', 'retired') THEN NULL ELSE resolved_at END "
                      "FROM (VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      sql += r ? ", (" : "(";
      for (size_t c = 1; c <= kRefreshCols; ++c) sql += "?" + std::to_string(r * kRefreshCols + c) + (c < kRefreshCols ? ", " : ")");
    }
    return sql + ") AS v WHERE exceptions.id = v.column1";
  };
  Statement refresh_one(db, refresh_sql(1)), refresh_many(db, refresh_sql(kRows));
  std::vector<std::pair<int64_t, const Finding*>> stale;  // refreshes not yet run
  auto flush_refreshes = [&] {
    size_t done = 0;
    auto run = [&](Statement& stmt, size_t count) {
      for (size_t r = 0; r < count; ++r) {
        const auto& [id, f] = stale[done + r];
        const Verdict& v = f->verdict;
        int b = static_cast<int>(r * kRefreshCols);
        stmt.bind(b + 1, id).bind(b + 2, run_id).bind(b + 3, at).bind(b + 4, outcome_name(f->outcome));
        stmt.bind(b + 5, f->left_ids).bind(b + 6, f->right_ids).bind_optional(b + 7, v.expected);
        stmt.bind_optional(b + 8, v.actual).bind_optional(b + 9, v.delta).bind(b + 10, v.message);
        stmt.bind(b + 11, severity_name(f->severity));
        bind_facts(stmt, b + 12, *f, keep);
      }
      stmt.run();
      done += count;
    };
    while (stale.size() - done >= kRows) run(refresh_many, kRows);
    while (done < stale.size()) run(refresh_one, 1);
    stale.clear();
  };
  Statement resolve(db,
                    "UPDATE exceptions SET status = 'resolved', resolved_run = ?2, resolved_at = ?3 "
                    "WHERE id = ?1 AND status IN ('open', 'acknowledged')");
  Statement event(db, "INSERT INTO exception_events (exception_id, run_id, at, event) VALUES (?1, ?2, ?3, ?4)");
  for (const auto& rec : reports)
    for (const auto& f : rec.findings) {
      if (!is_exception(f.outcome)) continue;
      auto known = known_.find(id_key(rec.name, f.key, f.rule));
      int64_t id = known == known_.end() ? 0 : known->second.id;
      if (id == 0) {
        fresh.emplace_back(&rec, &f);  // its opening is first_run / first_seen_at: no event row needed
        ++changes.opened;
      } else {
        // One statement must not update a row twice (which of its values would win is not
        // defined): a repeated exception runs the refreshes before it first, as one at a time did.
        if (std::any_of(stale.begin(), stale.end(), [id](const auto& e) { return e.first == id; })) flush_refreshes();
        stale.emplace_back(id, &f);
        if (stale.size() == kRows) flush_refreshes();
        if (known->second.closed) {
          event.bind(1, id).bind(2, run_id).bind(3, at).bind(4, "reopened").run();
          ++changes.reopened;
        } else {
          ++changes.refreshed;
        }
      }
    }
  flush_refreshes();
  size_t done = 0;
  for (; fresh.size() - done >= kRows; done += kRows) flush(insert_many, done, kRows);
  for (; done < fresh.size(); ++done) flush(insert_one, done, 1);
  for (int64_t id : passing_) {
    resolve.bind(1, id).bind(2, run_id).bind(3, at).run();
    if (sqlite3_changes(db.handle()) == 0) continue;
    event.bind(1, id).bind(2, run_id).bind(3, at).bind(4, "resolved").run();
    ++changes.resolved;
  }
  if (declared) changes.retired = retire(db, run_id, at, *declared);
  // Root causes last, once every exception of this run exists and those that now pass are
  // resolved or retired: a consequence names the unresolved causes that explain it now, so
  // a cause fixed (or no longer evaluated) in this run no longer explains what is still failing.
  link_causes(db, stack_, reports);
  return changes;
}

uint64_t ExceptionTracker::retire(Db& db, int64_t run_id, const std::string& at, const StackSpec& declared) {
  // What this run recorded as each reconciliation's keys (engine/spec/match_keys.hpp).
  std::unordered_map<std::string, std::string> keys_now;
  {
    Statement s(db,
                "SELECT rc.name, k.definition FROM run_reconciles rc JOIN run_match_keys k ON k.run_id = rc.run_id AND "
                "k.reconcile_no = rc.reconcile_no WHERE rc.run_id = ?1");
    s.bind(1, run_id);
    while (s.step()) keys_now[s.text_at(0)] = s.text_at(1);
  }
  // Each unresolved exception this run did not see fail, with the keys of its reconciliation
  // in the run that last saw it fail (NULL when that run recorded none: before schema v9,
  // nothing tells whether its keys changed, so it is not retired for that).
  Statement unresolved(db,
                       "SELECT e.id, e.reconcile, e.rule, (SELECT k.definition FROM run_reconciles rc JOIN run_match_keys k "
                       "ON k.run_id = rc.run_id AND k.reconcile_no = rc.reconcile_no WHERE rc.run_id = e.last_run AND "
                       "rc.name = e.reconcile) FROM exceptions e WHERE e.stack_name = ?1 AND "
                       "e.status IN ('open', 'acknowledged') AND e.last_run <> ?2 ORDER BY e.id");
  unresolved.bind(1, stack_).bind(2, run_id);
  std::vector<std::pair<int64_t, std::string>> retiring;  // id, why
  while (unresolved.step()) {
    const std::string reconcile = unresolved.text_at(1), rule = unresolved.text_at(2);
    const ReconcileSpec* rec = nullptr;
    for (const auto& r : declared.reconciles)
      if (r.name == reconcile) rec = &r;
    if (!rec) {
      retiring.emplace_back(unresolved.int_at(0), "reconcile '" + reconcile + "' is no longer declared");
      continue;
    }
    bool rule_declared = false;
    for (const auto& r : rec->rules) rule_declared = rule_declared || r.name == rule;
    if (!rule_declared) {
      retiring.emplace_back(unresolved.int_at(0),
                            "rule '" + rule + "' is no longer declared in reconcile '" + reconcile + "'");
      continue;
    }
    auto now = keys_now.find(reconcile);
    if (!unresolved.is_null(3) && now != keys_now.end() && now->second != unresolved.text_at(3))
      retiring.emplace_back(unresolved.int_at(0), "reconcile '" + reconcile + "' now matches on a different key");
  }
  unresolved.reset();
  Statement mark(db,
                 "UPDATE exceptions SET status = 'retired', resolved_run = ?2, resolved_at = ?3 "
                 "WHERE id = ?1 AND status IN ('open', 'acknowledged')");
  Statement event(db,
                  "INSERT INTO exception_events (exception_id, run_id, at, event, note) VALUES (?1, ?2, ?3, 'retired', ?4)");
  for (const auto& [id, why] : retiring) {
    mark.bind(1, id).bind(2, run_id).bind(3, at).run();
    event.bind(1, id).bind(2, run_id).bind(3, at).bind(4, why).run();
  }
  return retiring.size();
}

std::vector<ExceptionRow> list_exceptions(Db& db, const std::string& status, const std::string& now_iso) {
  Statement s(db,
              "SELECT id, status, reconcile, group_key, rule, system_of_record, severity, first_seen_at, last_seen_at, "
              "coalesce(delta, ''), message, first_run, last_run, coalesce(resolved_run, 0), "
              "CAST(julianday(?2) - julianday(first_seen_at) AS INTEGER), coalesce(record_at, ''), "
              "coalesce(currency, ''), left_amount, right_amount, CASE status WHEN 'retired' THEN (SELECT note FROM "
              "exception_events v WHERE v.exception_id = exceptions.id AND v.event = 'retired' ORDER BY v.id DESC "
              "LIMIT 1) END FROM exceptions "
              "WHERE ?1 = 'all' OR status = ?1 OR (?1 = 'unresolved' AND status IN ('open', 'acknowledged')) ORDER BY id");
  s.bind(1, status).bind(2, now_iso);
  std::vector<ExceptionRow> rows;
  while (s.step()) {
    ExceptionRow r;
    r.id = s.int_at(0);
    r.status = s.text_at(1);
    r.reconcile = s.text_at(2);
    r.key = s.text_at(3);
    r.rule = s.text_at(4);
    r.system_of_record = s.text_at(5);
    r.severity = s.text_at(6);
    r.first_seen_at = s.text_at(7);
    r.last_seen_at = s.text_at(8);
    r.delta = s.text_at(9);
    r.message = s.text_at(10);
    r.first_run = s.int_at(11);
    r.last_run = s.int_at(12);
    r.resolved_run = s.int_at(13);
    r.age_days = s.int_at(14);
    r.record_at = s.text_at(15);
    r.retired_because = s.text_at(19);
    if (CurrencyCode cur = pack_currency(s.text_at(16)); cur && !s.is_null(17)) {
      r.has_amounts = true;
      r.currency = cur;
      r.left_amount = s.int_at(17);
      r.right_amount = s.int_at(18);
      // Beyond int64 the amount at stake is not known exactly: reported as without amounts
      // (as when no amount field is known), never as a wrapped number.
      int64_t diff = 0;
      if (!checked_sub(r.right_amount, r.left_amount, diff) || !checked_abs(diff, r.amount_minor)) {
        r.has_amounts = false;
        r.amount_minor = r.left_amount = r.right_amount = 0;
        r.currency = 0;
      }
    } else if (auto money = parse_money_text(r.delta); money && checked_abs(money->first, r.amount_minor)) {
      r.currency = money->second;  // "-36.00 USD"; "105 min" is not money
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void acknowledge_exception(Db& db, int64_t id, const std::string& by, const std::string& note, const std::string& at) {
  Transaction tx(db, "BEGIN IMMEDIATE");
  require_sealed_state(db);
  std::string status;
  {
    Statement s(db, "SELECT status FROM exceptions WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) throw UserError("no exception " + std::to_string(id) + " (see seam exceptions)");
    status = s.text_at(0);
  }
  if (status != "open")
    throw UserError("exception " + std::to_string(id) + " is " + status + "; only open exceptions can be acknowledged");
  Statement u(db, "UPDATE exceptions SET status = 'acknowledged' WHERE id = ?1");
  u.bind(1, id).run();
  Statement e(db, "INSERT INTO exception_events (exception_id, at, event, by_whom, note) VALUES (?1, ?2, 'acknowledged', ?3, ?4)");
  e.bind(1, id).bind(2, at).bind(3, by).bind(4, note).run();
  // A chained record of its own: who acknowledged, when, and why, sealed with the state.
  append_chain_entry(db, {at, "acknowledged", "exception " + std::to_string(id), by, note});
  tx.commit();
}

}  // namespace seam
