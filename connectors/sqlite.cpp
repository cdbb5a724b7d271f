// SQLite: rows of a query against a client's own database file, opened read-only. The
// query must only read (no ATTACH of other files, no writes); columns are addressed by
// the names the query gives them; a row's "line" is its position in the result.
#include <sqlite3.h>

#include <charconv>
#include <memory>

#include "connectors/connector.hpp"
#include "engine/util/digest.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

class SqliteConnector final : public Connector {
 public:
  SqliteConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    auto q = spec.options.find("query");
    if (q == spec.options.end() || q->second.empty())
      throw UserError(spec.loc.str() + ": sqlite { ... } needs query = \"SELECT ...\" (system '" + system + "')");
    load_file(spec, system);
    query_ = q->second;
    auto fail = [&](const std::string& what) {
      throw UserError(spec.loc.str() + ": " + path_ + " (system '" + system + "'): " + what);
    };
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) fail(std::string("cannot open as SQLite: ") + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);  // the declared file, and only it
    // Only reading: no ATTACH, PRAGMA or write gets past the prepare.
    sqlite3_set_authorizer(
        db,
        [](void*, int action, const char*, const char*, const char*, const char*) {
          bool reads = action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION ||
                       action == SQLITE_RECURSIVE;
          return reads ? SQLITE_OK : SQLITE_DENY;
        },
        nullptr);
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, q->second.c_str(), static_cast<int>(q->second.size()), &stmt, nullptr);
    stmt_.reset(stmt);
    if (rc != SQLITE_OK) fail(std::string("query does not prepare: ") + sqlite3_errmsg(db));
    if (!stmt) fail("query is empty");
    if (!sqlite3_stmt_readonly(stmt_.get())) fail("query must only read (SELECT ...)");
    for (int c = 0; c < sqlite3_column_count(stmt_.get()); ++c) columns_.emplace_back(sqlite3_column_name(stmt_.get(), c));
  }
  std::optional<int> resolve(const std::string& column, std::string& why) override {
    for (size_t c = 0; c < columns_.size(); ++c)
      if (columns_[c] == column) return static_cast<int>(c);
    why = "column " + quote_for_message(column) + " is not in the query's result (columns: ";
    for (size_t c = 0; c < columns_.size(); ++c) why += (c ? ", " : "") + columns_[c];
    why += ")";
    return std::nullopt;
  }

  bool next() override {
    sqlite3_stmt* st = stmt_.get();
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
      check_not_empty(row_, allow_empty_, "no rows from its query", system_);
      return false;
    }
    if (rc != SQLITE_ROW)
      throw UserError(path_ + " (system '" + system_ + "'): reading row " + std::to_string(row_ + 1) +
                      " failed: " + sqlite3_errmsg(db_.get()));
    ++row_;
    malformed_.clear();
    cells_.assign(columns_.size(), std::nullopt);
    JsonWriter raw;
    raw.begin_object();
    for (size_t c = 0; c < columns_.size(); ++c) {
      int col = static_cast<int>(c);
      raw.key(columns_[c]);
      switch (sqlite3_column_type(st, col)) {
        case SQLITE_NULL: raw.null(); break;
        case SQLITE_INTEGER: cells_[c] = std::to_string(sqlite3_column_int64(st, col)); raw.value(*cells_[c]); break;
        case SQLITE_FLOAT: {
          char tmp[64];
          auto r = std::to_chars(tmp, tmp + sizeof tmp, sqlite3_column_double(st, col));
          cells_[c] = std::string(tmp, r.ptr);
          raw.value(*cells_[c]);
          break;
        }
        case SQLITE_BLOB:
          if (malformed_.empty()) malformed_ = "column " + quote_for_message(columns_[c]) + " holds binary data (a BLOB), not a value";
          raw.value("(blob)");
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
          cells_[c] = std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col)));
          raw.value(*cells_[c]);
        }
      }
    }
    raw.end_object();
    raw_ = raw.str();
    return true;
  }

  uint64_t line() const override { return row_; }
  // The file's bytes and the query together say what was read: a replay can tell if either changed.
  std::string digest() const override { return sha256_hex(Connector::digest() + "\n" + query_); }
  std::string_view raw() const override { return raw_; }
  const std::string& malformed() const override { return malformed_; }
  std::optional<std::string_view> get(int handle) override {
    const auto& cell = cells_[static_cast<size_t>(handle)];
    return cell ? std::optional<std::string_view>(*cell) : std::nullopt;
  }

 private:
  std::string system_, query_;
  bool allow_empty_ = false;
  // Declared in this order so the statement is finalized before its connection closes.
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db_{nullptr, sqlite3_close};
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt_{nullptr, sqlite3_finalize};
  std::vector<std::string> columns_;
  std::vector<std::optional<std::string>> cells_;
  uint64_t row_ = 0;
  std::string raw_, malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_sqlite_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<SqliteConnector>(spec, system);
}

}  // namespace seam
