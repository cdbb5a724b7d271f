#include "engine/audit/chain.hpp"

#include <simdjson.h>

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>

#include "engine/util/digest.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

// Rows of a run in progress join the state with that run's own entry.
#define SEAM_RUNNING "(SELECT id FROM runs WHERE status = 'running')"

struct StateTable {
  const char* name;
  const char* sql;
  // A table a later schema version added joins the state once it holds a row: a log
  // upgraded to that version still matches the entry sealed before the upgrade, while
  // filling or emptying the table still changes the state.
  bool once_filled = false;
};

// SELECT *: a column a later migration adds is covered without anyone remembering to.
constexpr StateTable kStateTables[] = {
    {"runs", "SELECT * FROM runs WHERE status <> 'running' ORDER BY id"},
    {"run_params", "SELECT * FROM run_params WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, name"},
    {"run_inputs", "SELECT * FROM run_inputs WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, system"},
    {"run_input_files",
     "SELECT * FROM run_input_files WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, system, file_no", true},
    {"run_reconciles",
     "SELECT * FROM run_reconciles WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, reconcile_no"},
    {"run_rules",
     "SELECT * FROM run_rules WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, reconcile_no, position"},
    {"run_strategies",
     "SELECT * FROM run_strategies WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, reconcile_no, strategy_no"},
    {"run_match_keys",
     "SELECT * FROM run_match_keys WHERE run_id NOT IN " SEAM_RUNNING " ORDER BY run_id, reconcile_no", true},
    {"rules", "SELECT * FROM rules WHERE coalesce(added_by_run, 0) NOT IN " SEAM_RUNNING " ORDER BY id"},
    {"exceptions", "SELECT * FROM exceptions ORDER BY id"},
    {"exception_events", "SELECT * FROM exception_events ORDER BY id"},
    {"exception_causes", "SELECT * FROM exception_causes ORDER BY effect_id, cause_id", true},
    {"alert_deliveries", "SELECT * FROM alert_deliveries ORDER BY id"},
    {"alert_attempts", "SELECT * FROM alert_attempts ORDER BY delivery_id, attempt"},
};
#undef SEAM_RUNNING

// Every column typed: NULL, 0, '' and '0' all hash differently.
std::string table_digest(Db& db, const StateTable& t) {
  Statement s(db, t.sql);
  Sha256 h;
  const int n = s.columns();
  h.field(int64_t{n});
  for (int c = 0; c < n; ++c) h.field(std::string_view(s.column_name(c)));
  while (s.step()) {
    for (int c = 0; c < n; ++c) {
      switch (s.type_at(c)) {
        case SQLITE_NULL: h.null_field(); break;
        case SQLITE_INTEGER: h.field(s.int_at(c)); break;
        case SQLITE_FLOAT:  // seam writes none; hashed by SQLite's text of it, tagged apart from text
          h.update("f");
          h.field(s.bytes_at(c));
          break;
        default: h.field(s.bytes_at(c)); break;  // text and blobs, NUL bytes included
      }
    }
  }
  return h.hex_final();
}

// Whether a table the state takes once filled holds a row of the state yet (it does not
// exist yet while an older schema's migration appends its chain entry).
bool has_rows(Db& db, const StateTable& t) {
  Statement exists(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
  exists.bind(1, t.name);
  if (!exists.step() || exists.int_at(0) == 0) return false;
  Statement any(db, std::string("SELECT EXISTS (") + t.sql + ")");
  return any.step() && any.int_at(0) != 0;
}

void field_or_null(Sha256& h, const std::string& s) {
  if (s.empty()) h.null_field();
  else h.field(s);
}

ChainEntry read_entry(const Statement& s) {
  ChainEntry e;
  e.seq = s.int_at(0);
  e.at = s.text_at(1);
  e.event = s.text_at(2);
  e.subject = s.text_at(3);
  e.actor = s.text_at(4);
  e.note = s.text_at(5);
  e.tables_json = s.text_at(6);
  e.state_digest = s.text_at(7);
  e.prev_digest = s.text_at(8);
  e.digest = s.text_at(9);
  return e;
}

constexpr const char* kEntryColumns =
    "seq, at, event, subject, coalesce(actor, ''), coalesce(note, ''), tables, state_digest, prev_digest, digest";

// (table, digest) pairs of an entry's `tables`, as written by tables_json().
std::vector<std::pair<std::string, std::string>> parse_tables(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj) != simdjson::SUCCESS) return out;
  for (auto field : obj) {
    std::string_view v;
    if (field.value.get_string().get(v) == simdjson::SUCCESS) out.emplace_back(std::string(field.key), std::string(v));
  }
  return out;
}

}  // namespace

std::string StateDigest::tables_json() const {
  std::string out = "{";
  for (size_t i = 0; i < tables.size(); ++i)
    out += (i ? ",\"" : "\"") + tables[i].first + "\":\"" + tables[i].second + "\"";
  return out + "}";
}

StateDigest compute_state_digest(Db& db) {
  auto started = std::chrono::steady_clock::now();
  StateDigest d;
  Sha256 h;
  for (const auto& t : kStateTables) {
    if (t.once_filled && !has_rows(db, t)) continue;
    d.tables.emplace_back(t.name, table_digest(db, t));
    h.field(d.tables.back().first);
    h.field(d.tables.back().second);
  }
  d.digest = h.hex_final();
  spdlog::debug("audit chain: state digest in {} ms",
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return d;
}

std::string chain_entry_digest(const ChainEntry& e) {
  Sha256 h;
  h.field(e.prev_digest);
  h.field(e.seq);
  h.field(e.at);
  h.field(e.event);
  h.field(e.subject);
  field_or_null(h, e.actor);
  field_or_null(h, e.note);
  h.field(e.tables_json);
  h.field(e.state_digest);
  return h.hex_final();
}

std::optional<ChainEntry> chain_head(Db& db) {
  Statement s(db, std::string("SELECT ") + kEntryColumns + " FROM chain ORDER BY seq DESC LIMIT 1");
  if (!s.step()) return std::nullopt;
  return read_entry(s);
}

std::vector<ChainEntry> read_chain(Db& db) {
  Statement s(db, std::string("SELECT ") + kEntryColumns + " FROM chain ORDER BY seq");
  std::vector<ChainEntry> out;
  while (s.step()) out.push_back(read_entry(s));
  return out;
}

void require_sealed_state(Db& db) {
  auto head = chain_head(db);
  const std::string what_to_do =
      ". seam will not write into it, since sealing on top would make the change look legitimate: "
      "`seam audit verify` shows what no longer verifies; restore the log from a copy, or start a new one with --db";
  if (!head) throw TamperedError("audit log " + db.path() + " has no audit chain entries (they were deleted)" + what_to_do);
  StateDigest now = compute_state_digest(db);
  if (now.digest == head->state_digest) return;
  std::string differ;
  auto sealed = parse_tables(head->tables_json);
  for (const auto& [table, digest] : now.tables) {
    bool same = false;
    for (const auto& [t, d] : sealed) same = same || (t == table && d == digest);
    if (!same) differ += (differ.empty() ? "" : ", ") + table;
  }
  for (const auto& [table, digest] : sealed) {  // a sealed table now empty (or dropped)
    bool present = false;
    for (const auto& [t, d] : now.tables) present = present || t == table;
    if (!present) differ += (differ.empty() ? "" : ", ") + table;
  }
  throw TamperedError("audit log " + db.path() + " was changed outside seam after chain entry " +
                      std::to_string(head->seq) + " (" + head->event + ", " + head->subject + ", " + head->at +
                      "): " + (differ.empty() ? std::string("its state") : differ) + " differ from what it sealed" +
                      what_to_do);
}

ChainEntry append_chain_entry(Db& db, const ChainEvent& ev) {
  auto head = chain_head(db);
  StateDigest state = compute_state_digest(db);
  ChainEntry e;
  e.seq = head ? head->seq + 1 : 1;
  e.at = ev.at;
  e.event = ev.event;
  e.subject = ev.subject;
  e.actor = ev.actor;
  e.note = ev.note;
  e.tables_json = state.tables_json();
  e.state_digest = state.digest;
  e.prev_digest = head ? head->digest : std::string();
  e.digest = chain_entry_digest(e);
  Statement ins(db,
                "INSERT INTO chain (seq, at, event, subject, actor, note, tables, state_digest, prev_digest, digest) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  ins.bind(1, e.seq).bind(2, e.at).bind(3, e.event).bind(4, e.subject).bind_optional(5, e.actor);
  ins.bind_optional(6, e.note).bind(7, e.tables_json).bind(8, e.state_digest).bind(9, e.prev_digest);
  ins.bind(10, e.digest).run();
  return e;
}

std::pair<int64_t, std::string> parse_head(const std::string& text) {
  auto colon = text.find(':');
  auto bad = [&] {
    return UserError("--expect-head expects SEQ:DIGEST as `seam audit head` prints it (e.g. 12:3f2a...), found '" +
                     text + "'");
  };
  if (colon == std::string::npos || colon == 0) throw bad();
  int64_t seq = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) || seq > (INT64_MAX - 9) / 10) throw bad();
    seq = seq * 10 + (text[i] - '0');
  }
  std::string digest = text.substr(colon + 1);
  if (digest.size() != 64) throw bad();
  for (char& c : digest) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isxdigit(static_cast<unsigned char>(c))) throw bad();
  }
  return {seq, digest};
}

}  // namespace seam
