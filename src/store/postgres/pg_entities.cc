// PostgresStore: the entities of seed §3.1 and API keys. Low volume; each
// write is one statement (its own transaction), each read one statement on a
// pooled connection. Times travel as integer micros (tally_ts / tally_us),
// money as integer micro-USD converted to NUMERIC USD in SQL, so nothing is
// rounded on the way.
#include <fmt/format.h>

#include "core/ids.h"
#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

using pg::Param;

Param P(const std::string& s) { return s; }
Param P(std::int64_t v) { return std::to_string(v); }
Param P(const std::optional<std::string>& s) { return s; }
Param Json(const std::string& s) { return s.empty() ? Param() : Param(s); }
Param Micros(core::Timestamp t) { return std::to_string(core::ToMicros(t)); }
Param Micros(const std::optional<core::Timestamp>& t) {
  return t ? Micros(*t) : Param();
}
Param Money(const std::optional<core::Money>& m) {
  return m ? Param(std::to_string(m->micros())) : Param();
}

std::optional<core::Money> OptMoney(const PGresult* r, int row, int col) {
  if (pg::IsNull(r, row, col)) return std::nullopt;
  return core::Money::FromMicros(pg::Int(r, row, col));
}
std::optional<core::Timestamp> OptTime(const PGresult* r, int row, int col) {
  if (pg::IsNull(r, row, col)) return std::nullopt;
  return core::FromMicros(pg::Int(r, row, col));
}

constexpr std::string_view kProductColumns =
    "id::text, name, type, status, tally_us(launched_at), revenue_model, "
    "(monthly_cost * 1000000)::bigint, metadata::text, tally_us(created_at)";
constexpr std::string_view kAgentColumns =
    "id, role, default_model, (daily_budget * 1000000)::bigint, status, metadata::text, "
    "tally_us(created_at)";
constexpr std::string_view kChannelColumns =
    "id::text, product_id::text, channel_type, channel_config::text, tally_us(created_at)";
constexpr std::string_view kApiKeyColumns =
    "id, name, secret_hash, scopes, tally_us(created_at), tally_us(revoked_at)";

model::Product ReadProduct(const PGresult* r, int i) {
  model::Product p;
  p.id = pg::Text(r, i, 0);
  p.name = pg::Text(r, i, 1);
  p.type = pg::Text(r, i, 2);
  p.status = pg::Text(r, i, 3);
  p.launched_at = OptTime(r, i, 4);
  p.revenue_model = pg::OptText(r, i, 5);
  p.monthly_cost = OptMoney(r, i, 6);
  p.metadata = pg::Text(r, i, 7);
  p.created_at = core::FromMicros(pg::Int(r, i, 8));
  return p;
}

model::Agent ReadAgent(const PGresult* r, int i) {
  model::Agent a;
  a.id = pg::Text(r, i, 0);
  a.role = pg::Text(r, i, 1);
  a.default_model = pg::OptText(r, i, 2);
  a.daily_budget = OptMoney(r, i, 3);
  a.status = pg::Text(r, i, 4);
  a.metadata = pg::Text(r, i, 5);
  a.created_at = core::FromMicros(pg::Int(r, i, 6));
  return a;
}

model::RevenueChannel ReadChannel(const PGresult* r, int i) {
  model::RevenueChannel c;
  c.id = pg::Text(r, i, 0);
  c.product_id = pg::OptText(r, i, 1);
  c.channel_type = pg::Text(r, i, 2);
  c.channel_config = pg::Text(r, i, 3);
  c.created_at = core::FromMicros(pg::Int(r, i, 4));
  return c;
}

ApiKeyRecord ReadApiKey(const PGresult* r, int i) {
  ApiKeyRecord k;
  k.id = pg::Text(r, i, 0);
  k.name = pg::Text(r, i, 1);
  k.secret_hash = pg::Text(r, i, 2);
  k.scopes = static_cast<unsigned>(pg::Int(r, i, 3));
  k.created_at = core::FromMicros(pg::Int(r, i, 4));
  k.revoked_at = OptTime(r, i, 5);
  return k;
}

template <typename T, typename ReadRow>
std::vector<T> ReadAll(const PGresult* r, ReadRow read) {
  std::vector<T> out;
  for (int i = 0; i < PQntuples(r); ++i) out.push_back(read(r, i));
  return out;
}

}  // namespace

// --- Products ----------------------------------------------------------------

Status PostgresStore::PutProduct(const model::Product& p) {
  return WriteOne(
      fmt::format("products: put id '{}'", p.id),
      "INSERT INTO products (id, name, type, status, launched_at, revenue_model, monthly_cost, "
      "metadata, created_at) VALUES ($1::uuid, $2, $3, $4, tally_ts($5::bigint), $6, "
      "$7::bigint / 1000000.0, $8::jsonb, tally_ts($9::bigint)) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, "
      "status = excluded.status, launched_at = excluded.launched_at, "
      "revenue_model = excluded.revenue_model, monthly_cost = excluded.monthly_cost, "
      "metadata = excluded.metadata",
      {P(p.id), P(p.name), P(p.type), P(p.status), Micros(p.launched_at), P(p.revenue_model),
       Money(p.monthly_cost), Json(p.metadata), Micros(p.created_at)});
}

Result<model::Product> PostgresStore::GetProduct(const std::string& id) {
  if (core::IsUuid(id)) {
    auto res = TALLY_TRY(ReadOne(fmt::format("products: read id '{}'", id),
                                 fmt::format("SELECT {} FROM products WHERE id = $1::uuid",
                                             kProductColumns),
                                 {id}));
    if (PQntuples(res.get()) > 0) return ReadProduct(res.get(), 0);
  }
  return std::unexpected(core::Error::NotFound(fmt::format("product '{}' not found", id)));
}

Result<std::vector<model::Product>> PostgresStore::ListProducts() {
  auto res = TALLY_TRY(ReadOne(
      "products: list",
      fmt::format("SELECT {} FROM products ORDER BY id::text COLLATE \"C\"", kProductColumns), {}));
  return ReadAll<model::Product>(res.get(), ReadProduct);
}

// --- Agents ------------------------------------------------------------------

Status PostgresStore::PutAgent(const model::Agent& a) {
  return WriteOne(
      fmt::format("agents: put id '{}'", a.id),
      "INSERT INTO agents (id, role, default_model, daily_budget, status, metadata, created_at) "
      "VALUES ($1, $2, $3, $4::bigint / 1000000.0, $5, $6::jsonb, tally_ts($7::bigint)) "
      "ON CONFLICT (id) DO UPDATE SET role = excluded.role, "
      "default_model = excluded.default_model, daily_budget = excluded.daily_budget, "
      "status = excluded.status, metadata = excluded.metadata",
      {P(a.id), P(a.role), P(a.default_model), Money(a.daily_budget), P(a.status), Json(a.metadata),
       Micros(a.created_at)});
}

Result<model::Agent> PostgresStore::GetAgent(const std::string& id) {
  auto res = TALLY_TRY(
      ReadOne(fmt::format("agents: read id '{}'", id),
              fmt::format("SELECT {} FROM agents WHERE id = $1", kAgentColumns), {id}));
  if (PQntuples(res.get()) == 0) {
    return std::unexpected(core::Error::NotFound(fmt::format("agent '{}' not found", id)));
  }
  return ReadAgent(res.get(), 0);
}

Result<std::vector<model::Agent>> PostgresStore::ListAgents() {
  auto res = TALLY_TRY(ReadOne(
      "agents: list", fmt::format("SELECT {} FROM agents ORDER BY id COLLATE \"C\"", kAgentColumns),
      {}));
  return ReadAll<model::Agent>(res.get(), ReadAgent);
}

// --- Revenue channels --------------------------------------------------------

Status PostgresStore::PutChannel(const model::RevenueChannel& c) {
  Status status = WriteOne(
      fmt::format("revenue_channels: put id '{}'", c.id),
      "INSERT INTO revenue_channels (id, product_id, channel_type, channel_config, created_at) "
      "VALUES ($1::uuid, $2::uuid, $3, $4::jsonb, tally_ts($5::bigint)) "
      "ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, "
      "channel_type = excluded.channel_type, channel_config = excluded.channel_config",
      {P(c.id), P(c.product_id), P(c.channel_type), Json(c.channel_config),
       Micros(c.created_at)});
  if (!status && status.error().code() == core::ErrorCode::kConflict && c.product_id) {
    return std::unexpected(core::Error::Conflict(
        fmt::format("revenue_channels: put id '{}': product_id '{}' does not exist ({})", c.id,
                    *c.product_id, status.error().message())));
  }
  return status;
}

Result<model::RevenueChannel> PostgresStore::GetChannel(const std::string& id) {
  if (core::IsUuid(id)) {
    auto res = TALLY_TRY(ReadOne(
        fmt::format("revenue_channels: read id '{}'", id),
        fmt::format("SELECT {} FROM revenue_channels WHERE id = $1::uuid", kChannelColumns), {id}));
    if (PQntuples(res.get()) > 0) return ReadChannel(res.get(), 0);
  }
  return std::unexpected(core::Error::NotFound(fmt::format("revenue channel '{}' not found", id)));
}

Result<std::vector<model::RevenueChannel>> PostgresStore::ListChannels() {
  auto res = TALLY_TRY(ReadOne("revenue_channels: list",
                               fmt::format("SELECT {} FROM revenue_channels ORDER BY id::text "
                                           "COLLATE \"C\"",
                                           kChannelColumns),
                               {}));
  return ReadAll<model::RevenueChannel>(res.get(), ReadChannel);
}

// --- API keys ----------------------------------------------------------------

Status PostgresStore::CreateApiKey(const ApiKeyRecord& key) {
  Status status = WriteOne(
      fmt::format("api_keys: create id '{}'", key.id),
      "INSERT INTO api_keys (id, name, secret_hash, scopes, created_at, revoked_at) "
      "VALUES ($1, $2, $3, $4, tally_ts($5::bigint), tally_ts($6::bigint))",
      {P(key.id), P(key.name), P(key.secret_hash), P(static_cast<std::int64_t>(key.scopes)),
       Micros(key.created_at), Micros(key.revoked_at)});
  if (!status && status.error().code() == core::ErrorCode::kConflict) {
    return std::unexpected(core::Error::Conflict(
        fmt::format("api key '{}' (or one with the same secret) already exists", key.id)));
  }
  return status;
}

Result<ApiKeyRecord> PostgresStore::FindApiKeyByHash(const std::string& secret_hash) {
  auto res = TALLY_TRY(ReadOne(
      "api_keys: find",
      fmt::format("SELECT {} FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
                  kApiKeyColumns),
      {secret_hash}));
  if (PQntuples(res.get()) == 0) {
    // The hash is not echoed: it identifies a secret.
    return std::unexpected(core::Error::NotFound("no active api key matches this secret"));
  }
  return ReadApiKey(res.get(), 0);
}

Result<std::vector<ApiKeyRecord>> PostgresStore::ListApiKeys() {
  auto res = TALLY_TRY(ReadOne(
      "api_keys: list",
      fmt::format("SELECT {} FROM api_keys ORDER BY id COLLATE \"C\"", kApiKeyColumns), {}));
  return ReadAll<ApiKeyRecord>(res.get(), ReadApiKey);
}

Status PostgresStore::RevokeApiKey(const std::string& id, core::Timestamp when) {
  std::int64_t changes = 0;
  TALLY_RETURN_IF_ERROR(WriteOne(
      fmt::format("api_keys: revoke id '{}'", id),
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, tally_ts($1::bigint)) WHERE id = $2",
      {Micros(when), P(id)}, &changes));
  if (changes == 0) {
    return std::unexpected(core::Error::NotFound(fmt::format("api key '{}' not found", id)));
  }
  return core::OkStatus();
}

}  // namespace tally::store
