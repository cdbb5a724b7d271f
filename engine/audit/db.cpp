#include "engine/audit/db.hpp"

#include "engine/util/json.hpp"

namespace seam {

namespace {

// seam_json_text(j): the bytes of the JSON string `j` (as `->` gives an element of a
// group block), NUL bytes included; anything else as it is. SQLite's own ->> ends a
// string at an escaped NUL (3.40), which made a log holding one fail verification.
void seam_json_text(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  const char* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  std::string_view j(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  if (j.size() < 2 || j.front() != '"' || j.back() != '"') {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  if (j.find('\\') == std::string_view::npos) {  // nothing escaped: the text between the quotes
    sqlite3_result_text(ctx, j.data() + 1, static_cast<int>(j.size() - 2), SQLITE_TRANSIENT);
    return;
  }
  auto text = json_parse_string(j);
  if (!text) {
    sqlite3_result_value(ctx, argv[0]);
    return;
  }
  sqlite3_result_text(ctx, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
}

}  // namespace

Db::Db(const std::string& path, Mode mode) : path_(path) {
  // NOMUTEX: one connection is never used by two threads at once (AuditLog's writer and
  // its caller take turns), so SQLite's per-call locking is pure cost.
  int flags = SQLITE_OPEN_NOMUTEX | (mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
              (mode == Mode::Create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw AuditError("cannot open audit log " + path + ": " + msg);
  }
  // A second writer waits up to 10 s for the first rather than failing at once.
  sqlite3_busy_timeout(db_, 10'000);
  if (sqlite3_create_function_v2(db_, "seam_json_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                 nullptr, seam_json_text, nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_close(db_);  // the destructor does not run for a constructor that throws
    db_ = nullptr;
    throw AuditError("cannot open audit log " + path + ": cannot register seam_json_text: " + msg);
  }
}

Db::~Db() { sqlite3_close(db_); }

void Db::fail(const std::string& what) {
  throw AuditError("audit log " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

void Db::exec(std::string_view sql) {
  char* msg = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    throw AuditError("audit log " + path_ + ": " + m + " (in: " + s.substr(0, 80) + ")");
  }
}

Statement::Statement(Db& db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                         nullptr) != SQLITE_OK)
    db.fail("cannot prepare '" + std::string(sql.substr(0, 80)) + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Statement& Statement::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(std::string("step '") + sqlite3_sql(stmt_) + "'");
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text_at(int col) const {
  auto p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

}  // namespace seam
