#pragma once
// RAII owners for an SQLite connection and its prepared statements. Every return code
// other than OK/ROW/DONE becomes an AuditError carrying sqlite3_errmsg and the SQL.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seam {

struct AuditError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The disk is full, a write or read failed, or the log is read-only where seam must write:
// nothing the user's stack or data did, so the CLI gives it an exit code of its own.
struct StorageError : AuditError {
  using AuditError::AuditError;
};
// The log's sealed state does not match what is stored: seam refuses to write into it,
// since sealing on top would make the change look legitimate.
struct TamperedError : AuditError {
  using AuditError::AuditError;
};

class Db;

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

  // Binding by position, 1-based (?1, ?2, ...). Text is NOT copied (SQLITE_STATIC): it
  // must stay alive until the statement is stepped, which every caller does at once.
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, uint64_t v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  // A temporary string would be gone before the statement is stepped: refuse it.
  Statement& bind(int i, std::string&& v) = delete;
  Statement& bind_optional(int i, std::string&& v) = delete;
  Statement& bind_null(int i);
  Statement& bind_optional(int i, std::string_view v) { return v.empty() ? bind_null(i) : bind(i, v); }

  bool step();  // true while a row is available
  void run() { step(); reset(); }
  void reset();

  int64_t int_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  // Every byte of the column, NULs included (sqlite3_column_bytes, never strlen): client
  // text is hashed into the seal as written, so it must read back the same.
  std::string text_at(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int type_at(int col) const { return sqlite3_column_type(stmt_, col); }
  // The column's bytes as stored (text or blob, NUL bytes included); valid until the next step.
  std::string_view bytes_at(int col) const;
  int columns() const { return sqlite3_column_count(stmt_); }
  const char* column_name(int col) const { return sqlite3_column_name(stmt_, col); }

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // ReadOnly opens without ever writing, even on read-only media (no WAL switch, no -shm
  // file created: SQLite's immutable mode when the folder cannot be written).
  enum class Mode { ReadWrite, Create, ReadOnly };
  // Opens the database file (creating it in Create mode); throws AuditError.
  Db(const std::string& path, Mode mode);
  Db(const std::string& path, bool create) : Db(path, create ? Mode::Create : Mode::ReadWrite) {}
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);
  sqlite3* handle() { return db_; }
  int64_t last_insert_id() { return sqlite3_last_insert_rowid(db_); }
  [[noreturn]] void fail(const std::string& what);
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// Commits on commit(); rolls back if destroyed before (an exception on the way out).
class Transaction {
 public:
  explicit Transaction(Db& db, const char* begin = "BEGIN") : db_(db) { db_.exec(begin); }
  ~Transaction() {
    if (!done_) try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace seam
