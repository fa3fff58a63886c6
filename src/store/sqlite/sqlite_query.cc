// User SQL (`tally sql`, the /sql API, ask): one read-only statement on a
// pooled SQLITE_OPEN_READONLY connection.
#include <fmt/format.h>

#include <chrono>

#include <array>
#include <cstring>

#include "store/sqlite/sqlite_store.h"

namespace tally::store {

namespace sqlite {
namespace {

thread_local std::string last_denial;

// Introspection pragmas that only read, with or without an argument
// (`PRAGMA table_info(llm_calls)`).
constexpr std::array<const char*, 14> kReadPragmasWithArgument = {
    "table_info",  "table_xinfo",      "table_list",      "index_list",    "index_info",
    "index_xinfo", "foreign_key_list", "collation_list",  "database_list", "function_list",
    "module_list", "pragma_list",      "compile_options", "quick_check"};
// Settings that may be read but not set (no argument).
constexpr std::array<const char*, 12> kReadOnlySettings = {
    "user_version", "schema_version", "application_id", "page_count",
    "page_size",    "freelist_count", "journal_mode",   "encoding",
    "foreign_keys", "data_version",   "synchronous",    "auto_vacuum"};

bool IsOneOf(const char* name, const auto& names) {
  for (const char* n : names) {
    if (sqlite3_stricmp(name, n) == 0) return true;
  }
  return false;
}

int Deny(std::string what) {
  last_denial = std::move(what);
  return SQLITE_DENY;
}

int Authorize(void*, int action, const char* arg1, const char* arg2, const char*, const char*) {
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return Deny("ATTACH/DETACH");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return Deny("transaction control");
    case SQLITE_PRAGMA: {
      const char* name = arg1 != nullptr ? arg1 : "";
      if (IsOneOf(name, kReadPragmasWithArgument)) return SQLITE_OK;
      if (arg2 == nullptr && IsOneOf(name, kReadOnlySettings)) return SQLITE_OK;
      return Deny(fmt::format("PRAGMA {}{}", name, arg2 != nullptr ? " with a value" : ""));
    }
    default:
      return SQLITE_OK;
  }
}

bool OnlySeparators(const char* tail) {
  for (; *tail != '\0'; ++tail) {
    if (std::strchr(" \t\r\n\f\v;", *tail) == nullptr) return false;
  }
  return true;
}

}  // namespace

void InstallQueryAuthorizer(sqlite3* db) { sqlite3_set_authorizer(db, Authorize, nullptr); }
const std::string& LastAuthorizerDenial() { return last_denial; }

}  // namespace sqlite

Result<QueryResult> SqliteStore::Query(const std::string& sql, std::int64_t max_rows) {
  constexpr std::string_view kReadOnlyMessage = "only read-only statements are allowed";
  auto reader = TALLY_TRY(AcquireReader());
  sqlite3* db = reader.get();
  sqlite::last_denial.clear();

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, &tail);
  sqlite::Statement stmt(raw);
  if (rc == SQLITE_AUTH) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("{} ({} is refused)", kReadOnlyMessage, sqlite::LastAuthorizerDenial())));
  }
  if ((rc & 0xff) == SQLITE_ERROR) {
    return std::unexpected(
        core::Error::InvalidArgument(fmt::format("sql: {}", sqlite3_errmsg(db))));
  }
  if (rc != SQLITE_OK) return std::unexpected(sqlite::ErrorFromSqlite(rc, db, "sql"));
  if (!stmt) return std::unexpected(core::Error::InvalidArgument("sql: empty statement"));
  // Anything after the first statement other than separators or comments is
  // a second statement; preparing the tail tells comments from statements.
  if (tail != nullptr && !sqlite::OnlySeparators(tail)) {
    sqlite3_stmt* next = nullptr;
    int next_rc = sqlite3_prepare_v2(db, tail, -1, &next, nullptr);
    sqlite::Statement next_stmt(next);
    if (next_rc != SQLITE_OK || next_stmt) {
      return std::unexpected(core::Error::InvalidArgument(
          "sql: only one statement is allowed (remove everything after the first ';')"));
    }
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return std::unexpected(core::Error::InvalidArgument(std::string(kReadOnlyMessage)));
  }

  // A runaway query (a recursive CTE, a cross join) must not hold a reader
  // and a server thread forever: SQLite calls this every 10k VM steps and
  // interrupts the statement past the deadline.
  struct Deadline {
    std::chrono::steady_clock::time_point at;
    static int Check(void* self) {
      return std::chrono::steady_clock::now() > static_cast<Deadline*>(self)->at ? 1 : 0;
    }
  } deadline{std::chrono::steady_clock::now() + options_.query_time_limit};
  sqlite3_progress_handler(db, 10'000, &Deadline::Check, &deadline);
  struct ClearHandler {
    sqlite3* db;
    ~ClearHandler() { sqlite3_progress_handler(db, 0, nullptr, nullptr); }
  } clear_handler{db};

  QueryResult result;
  int columns = sqlite3_column_count(stmt.get());
  result.columns.reserve(columns);
  for (int i = 0; i < columns; ++i) result.columns.emplace_back(sqlite3_column_name(stmt.get(), i));
  while (static_cast<std::int64_t>(result.rows.size()) < max_rows) {
    rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      if ((rc & 0xff) == SQLITE_INTERRUPT) {
        return std::unexpected(core::Error::InvalidArgument(fmt::format(
            "sql: query stopped after {} ms (the limit for one query)", options_.query_time_limit.count())));
      }
      if ((rc & 0xff) == SQLITE_ERROR) {
        return std::unexpected(
            core::Error::InvalidArgument(fmt::format("sql: {}", sqlite3_errmsg(db))));
      }
      return std::unexpected(sqlite::ErrorFromSqlite(rc, db, "sql"));
    }
    std::vector<SqlValue>& row = result.rows.emplace_back();
    row.reserve(columns);
    for (int i = 0; i < columns; ++i) row.push_back(sqlite::ColumnValue(stmt.get(), i));
  }
  stmt = sqlite::Statement();  // ends the read transaction
  // The authorizer forbids BEGIN, so this is a safety net: never pool a
  // connection that still holds a read snapshot.
  if (!sqlite3_get_autocommit(db)) reader.Discard();
  return result;
}

}  // namespace tally::store
