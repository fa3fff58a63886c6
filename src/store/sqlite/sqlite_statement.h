// Thin RAII helpers over the SQLite C API, shared by the SQLite store's files:
// an owning connection handle, a prepared statement that finalizes itself, and
// the mapping of SQLite result codes to core::Error.
//
// Thread-safety: none here. A connection (and its statements) is used by one
// thread at a time; SqliteStore guarantees that with its write mutex and its
// reader pool.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "store/store.h"

namespace tally::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// Maps a SQLite result code to an Error whose message is
// "<context>: <sqlite3_errmsg>":
//  - BUSY, LOCKED, IOERR, FULL, CANTOPEN, NOMEM, PROTOCOL -> unavailable (retryable)
//  - CONSTRAINT_CHECK / CONSTRAINT_NOTNULL -> invalid_argument (the row itself is bad)
//  - other CONSTRAINT (unique, primary key, foreign key) -> conflict
//  - READONLY -> invalid_argument
//  - anything else -> internal
// Call it right after the failing call: sqlite3_errmsg describes the most
// recent call on the connection.
core::Error ErrorFromSqlite(int rc, sqlite3* db, std::string_view context);

// Steps a statement that returns no rows; any result but SQLITE_DONE is an
// error named by context.
class Statement;
core::Status StepDone(Statement& stmt, sqlite3* db, std::string_view context);

// Runs one or more statements that return no rows (DDL, BEGIN, PRAGMA set).
core::Status Exec(sqlite3* db, const char* sql, std::string_view context);

// Opens a connection with tally's per-connection settings (busy timeout,
// foreign keys, synchronous=FULL, cache). read_only opens with
// SQLITE_OPEN_READONLY; otherwise the file is created if missing.
core::Result<DbHandle> OpenConnection(const std::string& path, bool read_only, int busy_timeout_ms);

// The current row's column i as a typed value: INTEGER, REAL, NULL, and TEXT
// or a BLOB's raw bytes as a string.
SqlValue ColumnValue(sqlite3_stmt* stmt, int i);

// Confines a read connection to what Query allows: denies ATTACH/DETACH,
// transaction control and PRAGMAs other than read-only introspection (which
// sqlite3_stmt_readonly() lets through because they change the connection,
// not the file). A denied statement fails to prepare with SQLITE_AUTH;
// LastAuthorizerDenial() then names what was refused (per thread).
void InstallQueryAuthorizer(sqlite3* db);
const std::string& LastAuthorizerDenial();

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Prepares exactly the given SQL (internal statements only; Query has its
  // own checks for user SQL). persistent hints SQLite that the statement is
  // cached and reused many times.
  static core::Result<Statement> Prepare(sqlite3* db, std::string_view sql,
                                         std::string_view context, bool persistent = false);

  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

  // Binders return a SQLite result code (SQLITE_OK is 0, so callers may OR
  // several together and check once). Text is bound SQLITE_STATIC: the caller
  // keeps it alive and unchanged until the statement is stepped and reset.
  // Indexes are 1-based, as in SQLite.
  int BindInt(int i, std::int64_t v) { return sqlite3_bind_int64(stmt_, i, v); }
  int BindNull(int i) { return sqlite3_bind_null(stmt_, i); }
  int BindText(int i, std::string_view v) {
    return sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // Empty text is stored as NULL (optional JSON metadata, optional ids).
  int BindTextOrNull(int i, std::string_view v) { return v.empty() ? BindNull(i) : BindText(i, v); }
  int BindOptText(int i, const std::optional<std::string>& v) {
    return v ? BindText(i, *v) : BindNull(i);
  }
  int BindOptInt(int i, const std::optional<std::int64_t>& v) {
    return v ? BindInt(i, *v) : BindNull(i);
  }

  int Step() { return sqlite3_step(stmt_); }
  // Clears the statement's run state so it can be stepped again; bindings stay.
  void Reset() { sqlite3_reset(stmt_); }

  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::optional<std::int64_t> ColumnOptInt(int i) const {
    if (ColumnIsNull(i)) return std::nullopt;
    return ColumnInt(i);
  }
  // NULL reads as "".
  std::string ColumnText(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    if (p == nullptr) return {};
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  std::optional<std::string> ColumnOptText(int i) const {
    if (ColumnIsNull(i)) return std::nullopt;
    return ColumnText(i);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a (cached) statement when leaving scope, so that an early return
// never leaves it mid-step holding a read or write lock.
class ScopedReset {
 public:
  explicit ScopedReset(Statement& s) : stmt_(s) {}
  ~ScopedReset() { stmt_.Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement& stmt_;
};

}  // namespace tally::store::sqlite
