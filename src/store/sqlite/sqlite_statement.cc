#include "store/sqlite/sqlite_statement.h"

#include <fmt/format.h>

namespace tally::store::sqlite {

core::Error ErrorFromSqlite(int rc, sqlite3* db, std::string_view context) {
  std::string message =
      fmt::format("{}: {}", context, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return core::Error::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL) {
        return core::Error::InvalidArgument(std::move(message));
      }
      return core::Error::Conflict(std::move(message));
    case SQLITE_READONLY:
      return core::Error::InvalidArgument(std::move(message));
    default:
      return core::Error::Internal(std::move(message));
  }
}

core::Status Exec(sqlite3* db, const char* sql, std::string_view context) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);  // sqlite3_errmsg(db) still holds the same text
  if (rc != SQLITE_OK) return std::unexpected(ErrorFromSqlite(rc, db, context));
  return core::OkStatus();
}

core::Result<DbHandle> OpenConnection(const std::string& path, bool read_only,
                                      int busy_timeout_ms) {
  // NOMUTEX: each connection is used by one thread at a time (see header), so
  // SQLite's own per-connection mutex is pure overhead.
  // Memory statistics take a process-wide mutex on every allocation; tally
  // never reads them. Must run before SQLite initializes, hence once, here.
  static const bool memstatus_off = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)memstatus_off;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);  // closes even when open failed
  if (rc != SQLITE_OK) {
    return std::unexpected(ErrorFromSqlite(rc, db.get(), fmt::format("open '{}'", path)));
  }
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  sqlite3_extended_result_codes(db.get(), 1);
  // synchronous=FULL: in WAL mode every commit fsyncs the WAL, so a commit
  // that returned is durable across power loss ("acked means durable").
  // cache_size is negative KiB: 64 MiB keeps the event_id indexes of a large
  // store hot for the writer; readers get less since there may be several.
  const char* pragmas = read_only ? "PRAGMA foreign_keys=ON;"
                                    "PRAGMA synchronous=FULL;"
                                    "PRAGMA cache_size=-16384;"
                                    "PRAGMA mmap_size=268435456;"
                                  : "PRAGMA foreign_keys=ON;"
                                    "PRAGMA synchronous=FULL;"
                                    "PRAGMA cache_size=-65536;"
                                    "PRAGMA temp_store=MEMORY;";
  TALLY_RETURN_IF_ERROR(Exec(db.get(), pragmas, fmt::format("configure '{}'", path)));
  return db;
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return SqlValue(std::in_place_index<1>, sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return SqlValue(std::in_place_index<2>, sqlite3_column_double(stmt, i));
    case SQLITE_NULL:
      return SqlValue(std::in_place_index<0>, nullptr);
    default: {
      const void* p = sqlite3_column_blob(stmt, i);
      int n = sqlite3_column_bytes(stmt, i);
      if (p == nullptr) return SqlValue(std::in_place_index<3>);
      return SqlValue(std::in_place_index<3>, static_cast<const char*>(p), static_cast<size_t>(n));
    }
  }
}

core::Result<Statement> Statement::Prepare(sqlite3* db, std::string_view sql,
                                           std::string_view context, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return std::unexpected(ErrorFromSqlite(rc, db, fmt::format("{}: prepare", context)));
  }
  return Statement(stmt);
}

core::Status StepDone(Statement& stmt, sqlite3* db, std::string_view context) {
  if (int rc = stmt.Step(); rc != SQLITE_DONE) return std::unexpected(ErrorFromSqlite(rc, db, context));
  return core::OkStatus();
}

}  // namespace tally::store::sqlite
