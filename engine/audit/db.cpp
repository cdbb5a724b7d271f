#include "engine/audit/db.hpp"

#include <cstdio>
#include <tuple>

#include "engine/util/json.hpp"

namespace seam {

namespace {

// Errors of the storage itself, not of the SQL seam sends: they get their own exit code.
bool is_storage_error(int code) {
  switch (code & 0xff) {
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_CORRUPT:
    case SQLITE_NOTADB: case SQLITE_PERM:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_for(int code, const std::string& message) {
  if (!is_storage_error(code)) throw AuditError(message);
  // SQLite rolls the failed transaction back: say so, since "disk I/O error" alone leaves a
  // person wondering what is left of the log.
  const char* what_to_do = (code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_PERM
                               ? "; the log cannot be written here: run from a copy in a writable folder"
                               : "; nothing of this write was kept: free some space or fix the disk, then run again";
  throw StorageError(message + what_to_do);
}

// file: URI of a path, for the immutable flag (a path may hold '?', '#' or '%').
std::string file_uri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (unsigned char c : path) {
    if (c == '?' || c == '#' || c == '%' || c < 0x20) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      uri += buf;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + query;
}

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
  auto open = [&](const std::string& name, int extra) {
    int rc = sqlite3_open_v2(name.c_str(), &db_, flags | extra, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      return std::make_pair(rc, msg);
    }
    return std::make_pair(SQLITE_OK, std::string());
  };
  auto [rc, msg] = open(path, 0);
  if (rc == SQLITE_OK && mode == Mode::ReadOnly) {
    // A WAL log needs its -shm file even to be read; on read-only media (a write-protected
    // copy an auditor was handed) it cannot be created, and the first read fails. Nobody can
    // be writing such a copy, so reading it as immutable is exact.
    int probe = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (probe != SQLITE_OK && is_storage_error(probe)) {
      sqlite3_close(db_);
      db_ = nullptr;
      std::tie(rc, msg) = open(file_uri(path, "immutable=1"), SQLITE_OPEN_URI);
    }
  }
  if (rc != SQLITE_OK) throw_for(rc, "cannot open audit log " + path + ": " + msg);
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
  throw_for(sqlite3_extended_errcode(db_), "audit log " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

void Db::exec(std::string_view sql) {
  char* msg = nullptr;
  std::string s(sql);
  if (int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg); rc != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    throw_for(rc, "audit log " + path_ + ": " + m + " (in: " + s.substr(0, 80) + ")");
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

std::string_view Statement::bytes_at(int col) const {
  const void* p = sqlite3_column_type(stmt_, col) == SQLITE_BLOB ? sqlite3_column_blob(stmt_, col)
                                                                 : static_cast<const void*>(sqlite3_column_text(stmt_, col));
  return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string_view();
}

std::string Statement::text_at(int col) const {
  auto p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

}  // namespace seam
