// SqliteStore: opening, connection management, migrations and counts.
// Append lives in sqlite_append.cc, entities and API keys in
// sqlite_entities.cc, user SQL in sqlite_query.cc.
#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "store/sqlite/sqlite_schema.h"

namespace tally::store {

using sqlite::DbHandle;
using sqlite::ErrorFromSqlite;
using sqlite::Exec;
using sqlite::Statement;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& data_dir) {
  return Open(data_dir, OpenOptions{});
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& data_dir,
                                                       OpenOptions options) {
  namespace fs = std::filesystem;
  std::string path = (fs::path(data_dir) / "tally.db").string();
  if (options.max_readers < 1) options.max_readers = 1;
  DbHandle writer;
  if (options.read_only) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return std::unexpected(core::Error::NotFound(
          fmt::format("no tally database at '{}' (run `tally serve` once to create it)", path)));
    }
  } else {
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) {
      return std::unexpected(core::Error::Unavailable(
          fmt::format("create data dir '{}': {}", data_dir, ec.message())));
    }
    writer = TALLY_TRY(sqlite::OpenConnection(path, /*read_only=*/false, options.busy_timeout_ms));
    // WAL: readers never block the writer and the writer never blocks
    // readers; the mode is persistent in the file. The autocheckpoint of
    // 10000 pages (~40 MB) keeps checkpoints off most large appends, and
    // journal_size_limit truncates the WAL back after one.
    TALLY_RETURN_IF_ERROR(Exec(writer.get(),
                               "PRAGMA journal_mode=WAL;"
                               "PRAGMA wal_autocheckpoint=10000;"
                               "PRAGMA journal_size_limit=67108864;",
                               fmt::format("configure '{}'", path)));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options, std::move(writer)));
  // Before Migrate: migrations that fill new rollups call the bucket
  // functions. Until store_settings exists the zone is UTC, as it was then.
  if (store->writer_) TALLY_RETURN_IF_ERROR(store->rollups_.RegisterBucketFunctions(store->writer_.get()));
  if (options.read_only) {
    // Fail at open, not at the first query, when the file is not a tally
    // database this binary can read.
    auto reader = TALLY_TRY(store->AcquireReader());
    int version = TALLY_TRY(sqlite::AppliedSchemaVersion(reader.get()));
    if (version != sqlite::LatestSchemaVersion()) {
      return std::unexpected(core::Error::Unavailable(fmt::format(
          "'{}' has schema version {}, this tally needs {}; open it writable once to migrate", path,
          version, sqlite::LatestSchemaVersion())));
    }
  } else {
    TALLY_RETURN_IF_ERROR(store->Migrate());
  }
  return store;
}

SqliteStore::SqliteStore(std::string path, OpenOptions options, DbHandle writer)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() {
  // Statements before their connection; sqlite3_close_v2 would defer the
  // close anyway, but this releases the file promptly.
  for (auto& stmt : insert_stmts_) stmt = Statement();
  rollups_.ReleaseStatements();
  idle_readers_.clear();
  writer_.reset();
}

SqliteStore::Reader::~Reader() {
  // A moved-from Reader has no owner; a discarded one frees its slot.
  if (owner_ != nullptr) owner_->ReleaseReader(std::move(db_));
}

Result<SqliteStore::Reader> SqliteStore::AcquireReader() {
  {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock,
                  [&] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!idle_readers_.empty()) {
      DbHandle db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(db));
    }
    ++open_readers_;  // reserve the slot; opened outside the lock
  }
  auto db = sqlite::OpenConnection(path_, /*read_only=*/true, options_.busy_timeout_ms);
  if (!db) {
    ReleaseReader(nullptr);
    return std::unexpected(std::move(db).error());
  }
  sqlite::InstallQueryAuthorizer(db->get());
  return Reader(this, std::move(*db));
}

void SqliteStore::ReleaseReader(DbHandle db) {
  std::lock_guard lock(pool_mu_);
  if (db != nullptr) {
    idle_readers_.push_back(std::move(db));
  } else {
    --open_readers_;  // discarded or failed to open: free the slot
  }
  pool_cv_.notify_one();
}

Result<sqlite3*> SqliteStore::Writer(std::string_view what) {
  if (writer_ == nullptr) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("{}: the store at '{}' is open read-only", what, path_)));
  }
  return writer_.get();
}

Status SqliteStore::InWriteTransaction(sqlite3* db, std::string_view context,
                                       const std::function<Status()>& body) {
  // IMMEDIATE takes the write lock up front: waiting (busy_timeout) happens
  // before any work, and the transaction cannot fail half-way for a lock.
  TALLY_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", fmt::format("{}: begin", context)));
  Status status = body();
  if (status) status = Exec(db, "COMMIT", fmt::format("{}: commit", context));
  if (!status) {
    // Fails harmlessly when SQLite already rolled back (e.g. after IOERR).
    (void)Exec(db, "ROLLBACK", context);
  }
  return status;
}

Status SqliteStore::WriteOne(std::string_view context, std::string_view sql,
                             const std::function<int(Statement&)>& bind, std::int64_t* changes) {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  auto stmt = TALLY_TRY(Statement::Prepare(db, sql, context));
  if (int rc = bind(stmt); rc != SQLITE_OK) {
    return std::unexpected(ErrorFromSqlite(rc, db, fmt::format("{}: bind", context)));
  }
  // A single statement outside BEGIN is its own (durable) transaction.
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return std::unexpected(ErrorFromSqlite(rc, db, context));
  if (changes != nullptr) *changes = sqlite3_changes64(db);
  return core::OkStatus();
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(write_mu_);
  if (writer_ == nullptr) {
    auto reader = TALLY_TRY(AcquireReader());
    int version = TALLY_TRY(sqlite::AppliedSchemaVersion(reader.get()));
    if (version == sqlite::LatestSchemaVersion()) return core::OkStatus();
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "migrate: the store at '{}' is open read-only and at schema version {} (latest {})", path_,
        version, sqlite::LatestSchemaVersion())));
  }
  return sqlite::MigrateSchema(writer_.get(), sqlite::LatestSchemaVersion());
}

Result<SqlValue> SqliteStore::ReadPragma(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("pragma name '{}'", name)));
  }
  std::string sql = fmt::format("PRAGMA {}", name);
  auto read = [&](sqlite3* db) -> Result<SqlValue> {
    auto stmt = TALLY_TRY(Statement::Prepare(db, sql, sql));
    int rc = stmt.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return std::unexpected(ErrorFromSqlite(rc, db, sql));
    }
    // A setting-style PRAGMA with nothing to report yields no row: NULL.
    Result<SqlValue> value(std::in_place, std::in_place_index<0>, nullptr);
    if (rc == SQLITE_ROW) *value = sqlite::ColumnValue(stmt.get(), 0);
    return value;
  };
  {
    std::lock_guard lock(write_mu_);
    if (writer_ != nullptr) return read(writer_.get());
  }
  auto reader = TALLY_TRY(AcquireReader());
  return read(reader.get());
}

Result<std::int64_t> SqliteStore::CountEvents(model::EventKind kind) {
  std::string sql = fmt::format("SELECT count(*) FROM {}", model::TableName(kind));
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(reader.get(), sql, model::TableName(kind)));
  int rc = stmt.Step();
  if (rc != SQLITE_ROW) {
    return std::unexpected(
        ErrorFromSqlite(rc, reader.get(), fmt::format("{}: count", model::TableName(kind))));
  }
  return stmt.ColumnInt(0);
}

Result<bool> SqliteStore::HasEvent(model::EventKind kind, const std::string& event_id) {
  std::string sql = fmt::format("SELECT 1 FROM {} WHERE event_id = ?", model::TableName(kind));
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(reader.get(), sql, model::TableName(kind)));
  stmt.BindText(1, event_id);
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(
      ErrorFromSqlite(rc, reader.get(),
                      fmt::format("{}: look up event_id '{}'", model::TableName(kind), event_id)));
}

}  // namespace tally::store
