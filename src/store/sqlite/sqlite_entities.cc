// SqliteStore: the entities of seed §3.1 and API keys. Low volume; each write
// is its own durable transaction, each read a fresh statement on a pooled
// reader.
#include <fmt/format.h>

#include "store/sqlite/sqlite_store.h"

namespace tally::store {
namespace {

using sqlite::Statement;

std::optional<std::int64_t> OptMicros(const std::optional<core::Money>& m) {
  if (!m) return std::nullopt;
  return m->micros();
}
std::optional<std::int64_t> OptMicros(const std::optional<core::Timestamp>& t) {
  if (!t) return std::nullopt;
  return core::ToMicros(*t);
}
std::optional<core::Money> OptMoney(const Statement& s, int i) {
  if (s.ColumnIsNull(i)) return std::nullopt;
  return core::Money::FromMicros(s.ColumnInt(i));
}
std::optional<core::Timestamp> OptTime(const Statement& s, int i) {
  if (s.ColumnIsNull(i)) return std::nullopt;
  return core::FromMicros(s.ColumnInt(i));
}

constexpr std::string_view kProductColumns =
    "id, name, type, status, launched_at, revenue_model, monthly_cost, metadata, created_at";
constexpr std::string_view kAgentColumns =
    "id, role, default_model, daily_budget, status, metadata, created_at";
constexpr std::string_view kChannelColumns =
    "id, product_id, channel_type, channel_config, created_at";
constexpr std::string_view kApiKeyColumns = "id, name, secret_hash, scopes, created_at, revoked_at";

model::Product ReadProduct(const Statement& s) {
  model::Product p;
  p.id = s.ColumnText(0);
  p.name = s.ColumnText(1);
  p.type = s.ColumnText(2);
  p.status = s.ColumnText(3);
  p.launched_at = OptTime(s, 4);
  p.revenue_model = s.ColumnOptText(5);
  p.monthly_cost = OptMoney(s, 6);
  p.metadata = s.ColumnText(7);
  p.created_at = core::FromMicros(s.ColumnInt(8));
  return p;
}

model::Agent ReadAgent(const Statement& s) {
  model::Agent a;
  a.id = s.ColumnText(0);
  a.role = s.ColumnText(1);
  a.default_model = s.ColumnOptText(2);
  a.daily_budget = OptMoney(s, 3);
  a.status = s.ColumnText(4);
  a.metadata = s.ColumnText(5);
  a.created_at = core::FromMicros(s.ColumnInt(6));
  return a;
}

model::RevenueChannel ReadChannel(const Statement& s) {
  model::RevenueChannel c;
  c.id = s.ColumnText(0);
  c.product_id = s.ColumnOptText(1);
  c.channel_type = s.ColumnText(2);
  c.channel_config = s.ColumnText(3);
  c.created_at = core::FromMicros(s.ColumnInt(4));
  return c;
}

ApiKeyRecord ReadApiKey(const Statement& s) {
  ApiKeyRecord k;
  k.id = s.ColumnText(0);
  k.name = s.ColumnText(1);
  k.secret_hash = s.ColumnText(2);
  k.scopes = static_cast<unsigned>(s.ColumnInt(3));
  k.created_at = core::FromMicros(s.ColumnInt(4));
  k.revoked_at = OptTime(s, 5);
  return k;
}

// Runs a prepared SELECT and converts every row with read.
template <typename T, typename ReadRow>
Result<std::vector<T>> ReadAll(sqlite3* db, Statement& stmt, std::string_view context,
                               ReadRow read) {
  std::vector<T> out;
  while (true) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
    out.push_back(read(stmt));
  }
}

}  // namespace

// --- Generic single-row lookups -------------------------------------------

namespace {

// SELECT <columns> FROM <table> WHERE <key> = ?; not_found names table and value.
template <typename T, typename ReadRow>
Result<T> ReadOneBy(sqlite3* db, std::string_view table, std::string_view columns,
                    std::string_view key, const std::string& value, std::string_view extra_where,
                    ReadRow read) {
  std::string sql =
      fmt::format("SELECT {} FROM {} WHERE {} = ?{}", columns, table, key, extra_where);
  auto stmt = TALLY_TRY(Statement::Prepare(db, sql, table));
  stmt.BindText(1, value);
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) return read(stmt);
  if (rc == SQLITE_DONE) return std::unexpected(core::Error(core::ErrorCode::kNotFound, ""));
  return std::unexpected(
      sqlite::ErrorFromSqlite(rc, db, fmt::format("{}: read {} '{}'", table, key, value)));
}

template <typename T, typename ReadRow>
Result<std::vector<T>> ListAll(sqlite3* db, std::string_view table, std::string_view columns,
                               ReadRow read) {
  std::string sql = fmt::format("SELECT {} FROM {} ORDER BY id", columns, table);
  auto stmt = TALLY_TRY(Statement::Prepare(db, sql, table));
  return ReadAll<T>(db, stmt, fmt::format("{}: list", table), read);
}

}  // namespace

// --- Products ----------------------------------------------------------------

Status SqliteStore::PutProduct(const model::Product& p) {
  return WriteOne(
      fmt::format("products: put id '{}'", p.id),
      "INSERT INTO products (id, name, type, status, launched_at, revenue_model, monthly_cost, "
      "metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, "
      "status = excluded.status, launched_at = excluded.launched_at, "
      "revenue_model = excluded.revenue_model, monthly_cost = excluded.monthly_cost, "
      "metadata = excluded.metadata",
      [&](Statement& s) {
        return s.BindText(1, p.id) | s.BindText(2, p.name) | s.BindText(3, p.type) |
               s.BindText(4, p.status) | s.BindOptInt(5, OptMicros(p.launched_at)) |
               s.BindOptText(6, p.revenue_model) | s.BindOptInt(7, OptMicros(p.monthly_cost)) |
               s.BindTextOrNull(8, p.metadata) | s.BindInt(9, core::ToMicros(p.created_at));
      });
}

Result<model::Product> SqliteStore::GetProduct(const std::string& id) {
  auto reader = TALLY_TRY(AcquireReader());
  auto r = ReadOneBy<model::Product>(reader.get(), "products", kProductColumns, "id", id, "",
                                     ReadProduct);
  if (!r && r.error().code() == core::ErrorCode::kNotFound) {
    return std::unexpected(core::Error::NotFound(fmt::format("product '{}' not found", id)));
  }
  return r;
}

Result<std::vector<model::Product>> SqliteStore::ListProducts() {
  auto reader = TALLY_TRY(AcquireReader());
  return ListAll<model::Product>(reader.get(), "products", kProductColumns, ReadProduct);
}

// --- Agents ------------------------------------------------------------------

Status SqliteStore::PutAgent(const model::Agent& a) {
  return WriteOne(
      fmt::format("agents: put id '{}'", a.id),
      "INSERT INTO agents (id, role, default_model, daily_budget, status, metadata, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT (id) DO UPDATE SET role = excluded.role, "
      "default_model = excluded.default_model, daily_budget = excluded.daily_budget, "
      "status = excluded.status, metadata = excluded.metadata",
      [&](Statement& s) {
        return s.BindText(1, a.id) | s.BindText(2, a.role) | s.BindOptText(3, a.default_model) |
               s.BindOptInt(4, OptMicros(a.daily_budget)) | s.BindText(5, a.status) |
               s.BindTextOrNull(6, a.metadata) | s.BindInt(7, core::ToMicros(a.created_at));
      });
}

Result<model::Agent> SqliteStore::GetAgent(const std::string& id) {
  auto reader = TALLY_TRY(AcquireReader());
  auto r = ReadOneBy<model::Agent>(reader.get(), "agents", kAgentColumns, "id", id, "", ReadAgent);
  if (!r && r.error().code() == core::ErrorCode::kNotFound) {
    return std::unexpected(core::Error::NotFound(fmt::format("agent '{}' not found", id)));
  }
  return r;
}

Result<std::vector<model::Agent>> SqliteStore::ListAgents() {
  auto reader = TALLY_TRY(AcquireReader());
  return ListAll<model::Agent>(reader.get(), "agents", kAgentColumns, ReadAgent);
}

// --- Revenue channels --------------------------------------------------------

Status SqliteStore::PutChannel(const model::RevenueChannel& c) {
  Status status = WriteOne(
      fmt::format("revenue_channels: put id '{}'", c.id),
      "INSERT INTO revenue_channels (id, product_id, channel_type, channel_config, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, "
      "channel_type = excluded.channel_type, channel_config = excluded.channel_config",
      [&](Statement& s) {
        return s.BindText(1, c.id) | s.BindOptText(2, c.product_id) |
               s.BindText(3, c.channel_type) | s.BindTextOrNull(4, c.channel_config) |
               s.BindInt(5, core::ToMicros(c.created_at));
      });
  if (!status && status.error().code() == core::ErrorCode::kConflict && c.product_id) {
    // The only foreign key: say which product is missing.
    return std::unexpected(core::Error::Conflict(
        fmt::format("revenue_channels: put id '{}': product_id '{}' does not exist ({})", c.id,
                    *c.product_id, status.error().message())));
  }
  return status;
}

Result<model::RevenueChannel> SqliteStore::GetChannel(const std::string& id) {
  auto reader = TALLY_TRY(AcquireReader());
  auto r = ReadOneBy<model::RevenueChannel>(reader.get(), "revenue_channels", kChannelColumns, "id",
                                            id, "", ReadChannel);
  if (!r && r.error().code() == core::ErrorCode::kNotFound) {
    return std::unexpected(
        core::Error::NotFound(fmt::format("revenue channel '{}' not found", id)));
  }
  return r;
}

Result<std::vector<model::RevenueChannel>> SqliteStore::ListChannels() {
  auto reader = TALLY_TRY(AcquireReader());
  return ListAll<model::RevenueChannel>(reader.get(), "revenue_channels", kChannelColumns,
                                        ReadChannel);
}

// --- API keys ----------------------------------------------------------------

Status SqliteStore::CreateApiKey(const ApiKeyRecord& key) {
  Status status = WriteOne(
      fmt::format("api_keys: create id '{}'", key.id),
      "INSERT INTO api_keys (id, name, secret_hash, scopes, created_at, revoked_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      [&](Statement& s) {
        return s.BindText(1, key.id) | s.BindText(2, key.name) | s.BindText(3, key.secret_hash) |
               s.BindInt(4, key.scopes) | s.BindInt(5, core::ToMicros(key.created_at)) |
               s.BindOptInt(6, OptMicros(key.revoked_at));
      });
  if (!status && status.error().code() == core::ErrorCode::kConflict) {
    return std::unexpected(core::Error::Conflict(
        fmt::format("api key '{}' (or one with the same secret) already exists", key.id)));
  }
  return status;
}

Result<ApiKeyRecord> SqliteStore::FindApiKeyByHash(const std::string& secret_hash) {
  auto reader = TALLY_TRY(AcquireReader());
  auto r = ReadOneBy<ApiKeyRecord>(reader.get(), "api_keys", kApiKeyColumns, "secret_hash",
                                   secret_hash, " AND revoked_at IS NULL", ReadApiKey);
  if (!r && r.error().code() == core::ErrorCode::kNotFound) {
    // The hash is not echoed: it identifies a secret.
    return std::unexpected(core::Error::NotFound("no active api key matches this secret"));
  }
  return r;
}

Result<std::vector<ApiKeyRecord>> SqliteStore::ListApiKeys() {
  auto reader = TALLY_TRY(AcquireReader());
  return ListAll<ApiKeyRecord>(reader.get(), "api_keys", kApiKeyColumns, ReadApiKey);
}

Status SqliteStore::RevokeApiKey(const std::string& id, core::Timestamp when) {
  // Updates nothing for an unknown id; the coalesce keeps the first
  // revocation time of an already revoked key.
  std::int64_t changes = 0;
  TALLY_RETURN_IF_ERROR(WriteOne(
      fmt::format("api_keys: revoke id '{}'", id),
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?1) WHERE id = ?2",
      [&](Statement& s) { return s.BindInt(1, core::ToMicros(when)) | s.BindText(2, id); },
      &changes));
  if (changes == 0) {
    return std::unexpected(core::Error::NotFound(fmt::format("api key '{}' not found", id)));
  }
  return core::OkStatus();
}

}  // namespace tally::store
