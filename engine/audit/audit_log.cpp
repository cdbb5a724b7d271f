#include "engine/audit/audit_log.hpp"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/audit/chain.hpp"
#include "engine/audit/schema.hpp"
#include "engine/util/json.hpp"
#include "engine/spec/stack_spec.hpp"
#include "engine/value/time.hpp"

namespace seam {

namespace {

// A path as stored in the log: absolute and resolved when it names something that exists
// (a file input, the stack folder), else as given. Runs before this stored paths relative to
// the folder `seam run` started in; replay still finds those (engine/run/replay.cpp).
std::string stored_path(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return path;
  if (!std::filesystem::exists(path, ec)) {  // a glob's pattern: absolute, as its files are
    auto absolute = std::filesystem::absolute(path, ec);
    return ec ? path : absolute.lexically_normal().string();
  }
  auto resolved = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : resolved.string();
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}


bool process_alive(int64_t pid) { return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

int64_t data_version(Db& db) {
  Statement s(db, "PRAGMA data_version");
  s.step();
  return s.int_at(0);
}

// Ends a run that will never be sealed as complete (failed, or found killed): what it wrote
// is digested from the stored rows, so a later edit of them shows, and the ending is
// chained. Inside the caller's transaction.
void end_unsealed_run(Db& db, int64_t run_id, const std::string& status, const std::string& ended_at,
                      const std::string& why) {
  StoredRunDigests d = digest_stored_run(db, run_id);
  Statement s(db,
              "UPDATE runs SET status = ?2, ended_at = coalesce(ended_at, ?3), rejects_digest = ?4, verdicts_digest = ?5 "
              "WHERE id = ?1");
  s.bind(1, run_id).bind(2, status).bind(3, ended_at).bind(4, d.rejects).bind(5, d.verdicts).run();
  append_chain_entry(db, {ended_at, "run " + status, "run " + std::to_string(run_id), "", why});
}

}  // namespace

// Groups of one batch, owning their text (the records and match keys they came from may
// be gone by the time the writer gets to them).
struct AuditLog::Batch {
  struct Row {
    int reconcile_no;
    int64_t group_no;
    size_t key, key_len, left, left_len, right, right_len, outcomes, outcomes_len;
    size_t first_detail, details;
    GroupOrigin origin;  // strategy -1: none recorded
    size_t matched_by = 0, matched_by_len = 0;
  };
  struct Detail {
    int64_t position;
    Verdict verdict;
  };
  std::string text;
  std::vector<Row> rows;
  std::vector<Detail> details;

  size_t put(std::string_view s) {
    size_t at = text.size();
    text.append(s);
    return at;
  }
  std::string_view view(size_t at, size_t len) const { return std::string_view(text).substr(at, len); }
};

// One background thread running queued tasks in order; at most kMaxQueued wait, so
// memory stays bounded when SQLite is slower than evaluation.
class AuditLog::Writer {
 public:
  static constexpr size_t kMaxQueued = 2;

  Writer() : thread_([this] { loop(); }) {}
  ~Writer() {
    spdlog::debug("audit writer: the run waited {} ms for it",
                  std::chrono::duration_cast<std::chrono::milliseconds>(waited_).count());
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void submit(std::function<void()> task) {
    std::unique_lock lock(mu_);
    auto start = std::chrono::steady_clock::now();
    cv_.wait(lock, [&] { return tasks_.size() < kMaxQueued || error_; });
    waited_ += std::chrono::steady_clock::now() - start;
    rethrow_locked();
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }

  // Waits until every submitted task has run; rethrows the first error.
  void drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return (tasks_.empty() && !busy_) || error_; });
    rethrow_locked();
  }

 private:
  void rethrow_locked() {
    if (error_) {
      auto e = error_;
      error_ = nullptr;
      tasks_.clear();
      std::rethrow_exception(e);
    }
  }
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stop requested and nothing left
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      busy_ = true;
      lock.unlock();
      std::exception_ptr failure;
      try {
        task();
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      busy_ = false;
      if (failure && !error_) error_ = failure;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::chrono::steady_clock::duration waited_{};
  std::thread thread_;
};

std::string compute_seal(Db& db, int64_t run_id, const std::string& prev_seal, const std::string& rejects_digest,
                         const std::string& verdicts_digest) {
  Sha256 h;
  h.field(prev_seal);
  h.field(run_id);
  {
    Statement s(db,
                "SELECT stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, groups_count, "
                "pass_count, fail_count, warn_count, skip_count, error_count, pending_count, rejects_count, "
                "coalesce(window_since, ''), coalesce(window_until, '') FROM runs WHERE id = ?1");
    s.bind(1, run_id);
    if (!s.step()) throw AuditError("run " + std::to_string(run_id) + " is not in the audit log");
    for (int c = 0; c < 6; ++c) h.field(s.text_at(c));
    for (int c = 6; c < 14; ++c) h.field(s.int_at(c));
    // The window decides which groups were evaluated; unwindowed runs hash as before v3.
    if (!s.text_at(14).empty() || !s.text_at(15).empty()) {
      h.field(s.text_at(14));
      h.field(s.text_at(15));
    }
  }
  {
    Statement s(db, "SELECT name, value, source FROM run_params WHERE run_id = ?1 ORDER BY name");
    s.bind(1, run_id);
    while (s.step())
      for (int c = 0; c < 3; ++c) h.field(s.text_at(c));
  }
  {
    Statement s(db,
                "SELECT system, path, digest, rows_read, rows_accepted, rows_rejected, rows_skipped FROM run_inputs "
                "WHERE run_id = ?1 ORDER BY system");
    s.bind(1, run_id);
    while (s.step()) {
      for (int c = 0; c < 3; ++c) h.field(s.text_at(c));
      for (int c = 3; c < 6; ++c) h.field(s.int_at(c));
      if (s.int_at(6)) h.field(s.int_at(6));  // inputs without a filter hash as before v3
    }
  }
  {
    // A glob's files; a run of single-file sources has none and hashes as before v7.
    Statement s(db,
                "SELECT system, file_no, path, digest, rows_read, rows_accepted, rows_rejected, rows_skipped "
                "FROM run_input_files WHERE run_id = ?1 ORDER BY system, file_no");
    s.bind(1, run_id);
    while (s.step()) {
      h.field(s.text_at(0));
      h.field(s.int_at(1));
      h.field(s.text_at(2));
      h.field(s.text_at(3));
      for (int c = 4; c < 8; ++c) h.field(s.int_at(c));
    }
  }
  {
    Statement s(db,
                "SELECT rc.reconcile_no, rc.name, rr.position, r.name, r.kind, r.version, r.source, r.severity "
                "FROM run_reconciles rc JOIN run_rules rr ON rr.run_id = rc.run_id AND rr.reconcile_no = rc.reconcile_no "
                "JOIN rules r ON r.id = rr.rule_id WHERE rc.run_id = ?1 ORDER BY rc.reconcile_no, rr.position");
    s.bind(1, run_id);
    while (s.step()) {
      h.field(s.int_at(0));
      h.field(s.text_at(1));
      h.field(s.int_at(2));
      for (int c = 3; c < 8; ++c) h.field(s.text_at(c));
    }
  }
  {
    // How groups were formed, for runs that record it (none before v5: they hash as before).
    Statement s(db, "SELECT reconcile_no, strategy_no, name, definition FROM run_strategies WHERE run_id = ?1 "
                    "ORDER BY reconcile_no, strategy_no");
    s.bind(1, run_id);
    while (s.step()) {
      h.field(s.int_at(0));
      h.field(s.int_at(1));
      h.field(s.bytes_at(2));
      h.field(s.bytes_at(3));
    }
  }
  {
    // What decides each reconciliation's keys; none before v9, and those runs hash as before.
    Statement s(db, "SELECT reconcile_no, definition FROM run_match_keys WHERE run_id = ?1 ORDER BY reconcile_no");
    s.bind(1, run_id);
    while (s.step()) {
      h.field(s.int_at(0));
      h.field(s.bytes_at(1));
    }
  }
  h.field(rejects_digest);
  h.field(verdicts_digest);
  return h.hex_final();
}

AuditLog::AuditLog(const std::string& path) : db_(path, true) { migrate_audit_schema(db_); }

AuditLog::~AuditLog() {
  writer_.reset();  // finishes queued batches (each its own transaction) before the connection closes
}

int64_t AuditLog::begin_run(const RunHeader& h, const ParamValues& params) {
  Transaction tx(db_, "BEGIN IMMEDIATE");
  require_sealed_state(db_);
  const std::string host = host_name();
  {
    // A run left 'running' by a process that no longer exists was killed: say so.
    Statement stale(db_, "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?1");
    stale.bind(1, host);
    std::vector<std::pair<int64_t, int64_t>> dead;
    while (stale.step())
      if (!process_alive(stale.int_at(1))) dead.emplace_back(stale.int_at(0), stale.int_at(1));
    stale.reset();
    for (auto [id, pid] : dead)
      end_unsealed_run(db_, id, "incomplete", h.started_at,
                       "its process (pid " + std::to_string(pid) + " on " + host + ") ended before the run did");
  }
  {
    // Seals chain in run order, so two runs must not write at once: the second one stops
    // with a clear message instead of interleaving its seal with the first.
    Statement live(db_, "SELECT id, pid, host FROM runs WHERE status = 'running' ORDER BY id LIMIT 1");
    if (live.step())
      throw AuditError("audit log " + db_.path() + " is being written by run " + std::to_string(live.int_at(0)) +
                       " (pid " + std::to_string(live.int_at(1)) + " on " + live.text_at(2) +
                       "); wait for it to finish, or use another --db");
  }
  if (!h.allow_other_stack) {
    // One log, one stack: exceptions, reports and replays are per stack, and a second stack's
    // runs mixed in would be read as the first's by every command that takes --db.
    Statement other(db_, "SELECT stack_name, stack_dir FROM runs WHERE stack_name <> ?1 ORDER BY id DESC LIMIT 1");
    other.bind(1, h.stack_name);
    if (other.step())
      throw AuditError("audit log " + db_.path() + " holds runs of stack '" + other.text_at(0) + "' (" +
                       other.text_at(1) + "), not of stack '" + h.stack_name +
                       "'; give this stack its own log (--db FILE elsewhere), or pass --allow-other-stack to "
                       "write both stacks' runs into this one");
  }
  Statement ins(db_,
                "INSERT INTO runs (stack_name, stack_dir, stack_digest, seam_version, started_at, as_of, status, pid, host, "
                "window_since, window_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9, ?10)");
  const std::string stack_dir = stored_path(h.stack_dir);  // bound by reference until run()
  ins.bind(1, h.stack_name).bind(2, stack_dir).bind(3, h.stack_digest).bind(4, SEAM_VERSION);
  ins.bind(5, h.started_at).bind(6, h.as_of).bind(7, static_cast<int64_t>(getpid())).bind(8, host);
  ins.bind_optional(9, h.window_since).bind_optional(10, h.window_until);
  ins.run();
  run_id_ = db_.last_insert_id();
  Statement p(db_, "INSERT INTO run_params (run_id, name, value, source) VALUES (?1, ?2, ?3, ?4)");
  for (const auto& [name, v] : params.all()) p.bind(1, run_id_).bind(2, name).bind(3, v.text).bind(4, v.source).run();
  tx.commit();
  checked_data_version_ = data_version(db_);

  insert_block_ = std::make_unique<Statement>(
      db_, "INSERT INTO group_blocks (run_id, first_group_no, groups) VALUES (?1, ?2, ?3)");
  insert_detail_ = std::make_unique<Statement>(
      db_, "INSERT INTO verdict_details (run_id, group_no, position, expected, actual, delta, message) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  insert_reject_ = std::make_unique<Statement>(
      db_, "INSERT INTO rejects (run_id, seq, system, path, line, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  batch_ = std::make_unique<Batch>();
  writer_ = std::make_unique<Writer>();
  return run_id_;
}

int64_t AuditLog::rule_id(const std::string& stack, const std::string& reconcile, const RuleSpec& rule) {
  submit_batch();
  writer_->drain();
  const std::string source = rule.loc.str();
  Statement find(db_,
                 "SELECT id FROM rules WHERE stack_name = ?1 AND reconcile = ?2 AND name = ?3 AND version = ?4 AND source = ?5");
  find.bind(1, stack).bind(2, reconcile).bind(3, rule.name).bind(4, rule.version).bind(5, source);
  if (find.step()) return find.int_at(0);
  Statement ins(db_,
                "INSERT INTO rules (stack_name, reconcile, name, kind, version, source, severity, doc, definition, "
                "added_by_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  ins.bind(1, stack).bind(2, reconcile).bind(3, rule.name).bind(4, rule_kind_name(rule.kind)).bind(5, rule.version);
  ins.bind(6, source).bind(7, severity_name(rule.severity)).bind(8, rule.doc).bind(9, rule.definition);
  ins.bind(10, run_id_).run();
  return db_.last_insert_id();
}

void AuditLog::add_reconcile(int reconcile_no, const std::string& name, const std::string& left,
                             const std::string& right, const std::vector<int64_t>& rule_ids,
                             const std::vector<MatchStrategySpec>* strategies, const std::string& match_keys) {
  submit_batch();
  writer_->drain();
  Transaction tx(db_, "BEGIN IMMEDIATE");
  Statement rc(db_,
               "INSERT INTO run_reconciles (run_id, reconcile_no, name, left_system, right_system) VALUES (?1, ?2, ?3, ?4, ?5)");
  rc.bind(1, run_id_).bind(2, reconcile_no).bind(3, name).bind(4, left).bind(5, right).run();
  if (!match_keys.empty()) {
    Statement keys(db_, "INSERT INTO run_match_keys (run_id, reconcile_no, definition) VALUES (?1, ?2, ?3)");
    keys.bind(1, run_id_).bind(2, reconcile_no).bind(3, match_keys).run();
  }
  Statement rr(db_, "INSERT INTO run_rules (run_id, reconcile_no, position, rule_id) VALUES (?1, ?2, ?3, ?4)");
  for (size_t i = 0; i < rule_ids.size(); ++i)
    rr.bind(1, run_id_).bind(2, reconcile_no).bind(3, static_cast<int64_t>(i)).bind(4, rule_ids[i]).run();
  if (strategies) {
    Statement st(db_,
                 "INSERT INTO run_strategies (run_id, reconcile_no, strategy_no, name, definition) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (size_t i = 0; i < strategies->size(); ++i)
      st.bind(1, run_id_).bind(2, reconcile_no).bind(3, static_cast<int64_t>(i)).bind(4, (*strategies)[i].name)
          .bind(5, (*strategies)[i].definition).run();
  }
  tx.commit();
}

void AuditLog::add_input(const InputStats& stats, const std::vector<Reject>& rejects) {
  submit_batch();
  writer_->drain();
  Transaction tx(db_, "BEGIN IMMEDIATE");
  Statement in(db_,
               "INSERT INTO run_inputs (run_id, system, path, digest, rows_read, rows_accepted, rows_rejected, "
               "rows_skipped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  const std::string path = stored_path(stats.path);  // bound by reference until run()
  in.bind(1, run_id_).bind(2, stats.system).bind(3, path).bind(4, stats.digest);
  in.bind(5, stats.read).bind(6, stats.accepted).bind(7, stats.rejected).bind(8, stats.skipped).run();
  if (!stats.files.empty()) {
    Statement file(db_,
                   "INSERT INTO run_input_files (run_id, system, file_no, path, digest, rows_read, rows_accepted, "
                   "rows_rejected, rows_skipped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    for (size_t k = 0; k < stats.files.size(); ++k) {
      const FileCounts& f = stats.files[k];
      const std::string file_path = stored_path(f.path);
      file.bind(1, run_id_).bind(2, stats.system).bind(3, static_cast<int64_t>(k)).bind(4, file_path).bind(5, f.digest);
      file.bind(6, f.read).bind(7, f.accepted).bind(8, f.rejected).bind(9, f.skipped).run();
    }
  }
  for (const auto& r : rejects) {
    int64_t seq = reject_seq_++;
    insert_reject_->bind(1, run_id_).bind(2, seq).bind(3, r.system).bind(4, r.path);
    insert_reject_->bind(5, static_cast<int64_t>(r.line)).bind(6, r.reason).bind(7, r.raw).run();
    digest_.reject(seq, r.system, r.path, static_cast<int64_t>(r.line), r.reason, r.raw);
    ++counts_.rejects;
  }
  tx.commit();
}

void AuditLog::add_group(int reconcile_no, std::string_view key, std::string_view left_ids,
                         std::string_view right_ids, const std::vector<Verdict>& verdicts, const GroupOrigin* origin,
                         std::string_view matched_by) {
  Batch& b = *batch_;
  Batch::Row row{reconcile_no, group_no_++, 0, key.size(), 0, left_ids.size(), 0, right_ids.size(), 0,
                 verdicts.size(), b.details.size(), 0, origin ? *origin : GroupOrigin{}};
  row.key = b.put(key);
  row.left = b.put(left_ids);
  row.right = b.put(right_ids);
  row.matched_by = b.put(matched_by);
  row.matched_by_len = matched_by.size();
  row.outcomes = b.text.size();
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const Verdict& v = verdicts[i];
    b.text.push_back(outcome_code(v.outcome));
    ++counts_.outcomes[static_cast<size_t>(v.outcome)];
    if (v.outcome != Outcome::Pass) b.details.push_back({static_cast<int64_t>(i), v});
  }
  row.details = b.details.size() - row.first_detail;
  // Hashed here, not on the writer: the writer is the slower of the two threads, and the
  // group is in this thread's cache. Details after their group, as verify reads them back.
  digest_.group(row.group_no, reconcile_no, key, left_ids, right_ids, b.view(row.outcomes, row.outcomes_len));
  if (const GroupOrigin& o = row.origin; o.strategy >= 0)
    digest_.origin(o.strategy, o.keyless, o.amount_delta, o.time_delta, o.similarity, matched_by);
  for (size_t d = row.first_detail; d < row.first_detail + row.details; ++d) {
    const Verdict& v = b.details[d].verdict;
    digest_.detail(b.details[d].position, v.expected, v.actual, v.delta, v.message);
  }
  b.rows.push_back(row);
  ++counts_.groups;
  if (b.rows.size() >= kBatchGroups) submit_batch();
}

void AuditLog::submit_batch() {
  if (!batch_ || batch_->rows.empty()) return;
  std::shared_ptr<Batch> full(batch_.release());
  batch_ = std::make_unique<Batch>();
  batch_->text.reserve(full->text.size());
  writer_->submit([this, full] { write_batch(*full); });
}

void AuditLog::write_batch(const Batch& b) {
  Transaction tx(db_, "BEGIN IMMEDIATE");
  // Consecutive groups, kBlockGroups at a time, as one JSON array per row. SQLite's JSON
  // functions (the groups view reads blocks with ->>) end a string at an escaped NUL and do
  // not give back bytes that were not UTF-8, so a group holding such text gets a group_rows
  // row of its own, read back byte for byte (and the verdicts digest stays true).
  std::string json;
  size_t in_block = 0;
  int64_t block_first = 0;
  std::unique_ptr<Statement> insert_row;
  auto flush = [&] {
    if (in_block == 0) return;
    json += ']';
    insert_block_->bind(1, run_id_).bind(2, block_first).bind(3, json).run();
    in_block = 0;
  };
  for (const auto& row : b.rows) {
    std::string_view key = b.view(row.key, row.key_len), left = b.view(row.left, row.left_len),
                     right = b.view(row.right, row.right_len), outcomes = b.view(row.outcomes, row.outcomes_len);
    if (!json_text_round_trips(key) || !json_text_round_trips(left) || !json_text_round_trips(right) ||
        !json_text_round_trips(b.view(row.matched_by, row.matched_by_len))) {
      flush();
      if (!insert_row)
        insert_row = std::make_unique<Statement>(
            db_, "INSERT INTO group_rows (run_id, group_no, reconcile_no, group_key, left_ids, right_ids, outcomes, "
                 "strategy_no, amount_delta, time_delta, similarity, matched_by) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
      insert_row->bind(1, run_id_).bind(2, row.group_no).bind(3, row.reconcile_no).bind(4, key).bind(5, left);
      insert_row->bind(6, right).bind(7, outcomes);
      if (const GroupOrigin& o = row.origin; o.strategy >= 0) {
        insert_row->bind(8, int64_t{o.strategy}).bind(12, b.view(row.matched_by, row.matched_by_len));
        if (o.keyless) insert_row->bind(9, o.amount_delta).bind(10, o.time_delta).bind(11, int64_t{o.similarity});
        else insert_row->bind_null(9).bind_null(10).bind_null(11);
      } else {
        insert_row->bind_null(8).bind_null(9).bind_null(10).bind_null(11).bind_null(12);
      }
      insert_row->run();
      continue;
    }
    if (in_block == 0) {
      json.assign("[[");
      block_first = row.group_no;
    } else {
      json += ",[";
    }
    json += std::to_string(row.reconcile_no);
    for (std::string_view field : {key, left, right, outcomes}) {
      json += ',';
      json_escape_to(json, field);
    }
    if (const GroupOrigin& o = row.origin; o.strategy >= 0) {
      json += ',' + std::to_string(o.strategy);
      json += o.keyless ? ',' + std::to_string(o.amount_delta) + ',' + std::to_string(o.time_delta) + ',' +
                              std::to_string(o.similarity) + ','
                        : std::string(",null,null,null,");
      json_escape_to(json, b.view(row.matched_by, row.matched_by_len));
    }
    json += ']';
    if (++in_block == kBlockGroups) flush();
  }
  flush();
  // Details after their groups.
  for (const auto& row : b.rows) {
    for (size_t d = row.first_detail; d < row.first_detail + row.details; ++d) {
      const Verdict& v = b.details[d].verdict;
      insert_detail_->bind(1, run_id_).bind(2, row.group_no).bind(3, b.details[d].position);
      insert_detail_->bind_optional(4, v.expected).bind_optional(5, v.actual).bind_optional(6, v.delta);
      insert_detail_->bind(7, v.message).run();
    }
  }
  tx.commit();
}

std::string AuditLog::complete_run(const std::string& ended_at, const std::function<void(Db&)>& with_seal) {
  submit_batch();
  writer_->drain();
  // 64 MB of page cache for the seal: a first run over a large backlog opens tens of
  // thousands of exceptions in the sealing transaction, and a small cache spills their
  // pages to the WAL mid-transaction, writing some twice. By now the run has let go of its
  // records (run_stack), so this memory is not on top of theirs.
  db_.exec("PRAGMA cache_size = -65536");
  Transaction tx(db_, "BEGIN IMMEDIATE");
  // Another connection may have written since begin_run checked (an acknowledgement, or an
  // edit outside seam): check again before sealing on top of it.
  if (data_version(db_) != checked_data_version_) require_sealed_state(db_);
  Statement counts(db_,
                   "UPDATE runs SET ended_at = ?2, groups_count = ?3, pass_count = ?4, fail_count = ?5, warn_count = ?6, "
                   "skip_count = ?7, error_count = ?8, pending_count = ?9, rejects_count = ?10 WHERE id = ?1");
  counts.bind(1, run_id_).bind(2, ended_at).bind(3, counts_.groups);
  for (int o = 0; o < kOutcomeCount; ++o) counts.bind(4 + o, counts_.outcomes[static_cast<size_t>(o)]);
  counts.bind(10, counts_.rejects).run();

  std::string prev;
  {
    Statement last(db_, "SELECT seal FROM runs WHERE seal IS NOT NULL AND id < ?1 ORDER BY id DESC LIMIT 1");
    last.bind(1, run_id_);
    if (last.step()) prev = last.text_at(0);
  }
  std::string rejects_digest = digest_.rejects_hex(), verdicts_digest = digest_.verdicts_hex();
  std::string seal = compute_seal(db_, run_id_, prev, rejects_digest, verdicts_digest);
  Statement fin(db_,
                "UPDATE runs SET status = 'complete', rejects_digest = ?2, verdicts_digest = ?3, prev_seal = ?4, "
                "seal = ?5 WHERE id = ?1");
  fin.bind(1, run_id_).bind(2, rejects_digest).bind(3, verdicts_digest).bind(4, prev).bind(5, seal).run();
  if (with_seal) with_seal(db_);
  append_chain_entry(db_, {ended_at, "run complete", "run " + std::to_string(run_id_), "", ""});
  tx.commit();
  return seal;
}

void AuditLog::fail_run(const std::string& ended_at) {
  if (run_id_ == 0) return;
  try {  // keep what was evaluated: it is true, just not complete
    submit_batch();
    writer_->drain();
  } catch (const std::exception&) {
  }
  Transaction tx(db_, "BEGIN IMMEDIATE");
  if (data_version(db_) != checked_data_version_) require_sealed_state(db_);
  end_unsealed_run(db_, run_id_, "failed", ended_at, "");
  tx.commit();
}

}  // namespace seam
