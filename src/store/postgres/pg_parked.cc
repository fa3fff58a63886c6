// PostgresStore: product mappings and parked webhooks (store/parked.h).
//
// Every write here runs in one transaction as an exclusive writer
// (pg_locks.h), so a mapping added concurrently with a webhook (on any node)
// is seen either by the park (which then stores the events) or by the replay
// (which then finds the parked row). Parking is rare (a webhook whose
// product is not mapped yet); while one runs, appends wait.
#include <fmt/format.h>

#include <map>

#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

constexpr std::string_view kParkedColumns =
    "id, provider, provider_event_id, event_type, reason, payload, tally_us(received_at), "
    "tally_us(replayed_at)";

Result<std::vector<ProductMapping>> ReadMappings(PGconn* conn, const std::string& provider) {
  auto res = TALLY_TRY(pg::Run(
      conn,
      "SELECT provider, external_id, product_id::text, channel_id::text, tally_us(created_at) "
      "FROM product_mappings WHERE provider = $1 ORDER BY external_id COLLATE \"C\"",
      {provider}, fmt::format("product_mappings: list provider '{}'", provider)));
  std::vector<ProductMapping> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back(ProductMapping{pg::Text(r, i, 0), pg::Text(r, i, 1), pg::Text(r, i, 2),
                                 pg::OptText(r, i, 3), core::FromMicros(pg::Int(r, i, 4))});
  }
  return out;
}

Result<std::vector<ParkedEvent>> ReadParkedRows(PGconn* conn, std::string_view where,
                                                const std::string* provider) {
  std::vector<pg::Param> params;
  if (provider != nullptr) params.push_back(*provider);
  auto res = TALLY_TRY(pg::Run(
      conn, fmt::format("SELECT {} FROM parked_events {} ORDER BY id", kParkedColumns, where),
      params, "parked_events: list"));
  std::vector<ParkedEvent> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    ParkedEvent p;
    p.id = pg::Int(r, i, 0);
    p.provider = pg::Text(r, i, 1);
    p.provider_event_id = pg::Text(r, i, 2);
    p.event_type = pg::Text(r, i, 3);
    p.reason = pg::Text(r, i, 4);
    p.payload = pg::Text(r, i, 5);
    p.received_at = core::FromMicros(pg::Int(r, i, 6));
    if (auto v = pg::OptInt(r, i, 7)) p.replayed_at = core::FromMicros(*v);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

Result<std::vector<ProductMapping>> PostgresStore::ListMappings(const std::string& provider) {
  auto lease = TALLY_TRY(Acquire("product_mappings: list"));
  return ReadMappings(lease.get(), provider);
}

Result<std::vector<ParkedEvent>> PostgresStore::ListParked(bool include_replayed) {
  auto lease = TALLY_TRY(Acquire("parked_events: list"));
  return ReadParkedRows(lease.get(), include_replayed ? "" : "WHERE replayed_at IS NULL", nullptr);
}

Result<ParkOutcome> PostgresStore::ParkEvent(const ParkedEvent& parked,
                                             const ParkedResolver& resolve) {
  std::lock_guard lock(write_mu_);
  std::string context = fmt::format("parked_events: park {} event '{}'", parked.provider,
                                    parked.provider_event_id);
  auto lease = TALLY_TRY(Acquire(context));
  TALLY_RETURN_IF_ERROR(EnsureStaging(lease.pooled()));
  PGconn* conn = lease.get();
  ParkOutcome outcome;
  Status status = InTransaction(conn, context, Writer::kExclusive, [&]() -> Status {
    auto existing = TALLY_TRY(pg::Run(
        conn, "SELECT id FROM parked_events WHERE provider = $1 AND provider_event_id = $2",
        {parked.provider, parked.provider_event_id}, context));
    if (PQntuples(existing.get()) > 0) {
      outcome.kind = ParkOutcome::Kind::kDuplicate;
      outcome.parked_id = pg::Int(existing.get(), 0, 0);
      return core::OkStatus();
    }
    // Look at the mappings again under the lock: one added since the caller
    // looked releases the event now.
    auto mappings = TALLY_TRY(ReadMappings(conn, parked.provider));
    auto step = TALLY_TRY(
        ApplyParkedResolution(parked, resolve(parked, mappings), "webhook:", 
                              [&](auto batches, auto* stats) { return AppendInTransaction(lease.pooled(), batches, stats); }));
    if (step.stored) {
      outcome.kind = ParkOutcome::Kind::kStored;
      outcome.accepted = step.accepted;
      outcome.duplicates = step.duplicates;
      return core::OkStatus();
    }
    const std::string& reason = step.reason;
    auto res = TALLY_TRY(pg::Run(
        conn,
        "INSERT INTO parked_events (provider, provider_event_id, event_type, reason, payload, "
        "received_at) VALUES ($1, $2, $3, $4, $5, tally_ts($6::bigint)) RETURNING id",
        {parked.provider, parked.provider_event_id, parked.event_type, reason, parked.payload,
         std::to_string(core::ToMicros(parked.received_at))},
        context));
    outcome.kind = ParkOutcome::Kind::kParked;
    outcome.parked_id = pg::Int(res.get(), 0, 0);
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return outcome;
}

Result<ReplayStats> PostgresStore::ReplayLocked(PGconn* conn, PooledConn& c,
                                                const std::string* provider,
                                                const ParkedResolver& resolve,
                                                core::Timestamp now) {
  ReplayStats stats;
  auto pending = TALLY_TRY(ReadParkedRows(
      conn,
      provider != nullptr ? "WHERE replayed_at IS NULL AND provider = $1"
                          : "WHERE replayed_at IS NULL",
      provider));
  std::map<std::string, std::vector<ProductMapping>> mappings_by_provider;
  for (const ParkedEvent& parked : pending) {
    auto it = mappings_by_provider.find(parked.provider);
    if (it == mappings_by_provider.end()) {
      it = mappings_by_provider
               .emplace(parked.provider, TALLY_TRY(ReadMappings(conn, parked.provider)))
               .first;
    }
    auto step = TALLY_TRY(
        ApplyParkedResolution(parked, resolve(parked, it->second), "replay:", 
                              [&](auto batches, auto* stats) { return AppendInTransaction(c, batches, stats); }));
    const std::string& reason = step.reason;
    pg::Param replayed_at;
    if (step.stored) {
      stats.accepted += step.accepted;
      stats.duplicates += step.duplicates;
      replayed_at = std::to_string(core::ToMicros(now));
    }
    ++(replayed_at ? stats.replayed : stats.still_parked);
    TALLY_TRY(pg::Run(conn,
                      "UPDATE parked_events SET replayed_at = tally_ts($1::bigint), reason = $2 "
                      "WHERE id = $3",
                      {replayed_at, reason, std::to_string(parked.id)},
                      fmt::format("parked_events: mark id {}", parked.id)));
  }
  return stats;
}

Result<ReplayStats> PostgresStore::PutMappingAndReplay(const ProductMapping& m,
                                                       const ParkedResolver& resolve) {
  std::lock_guard lock(write_mu_);
  std::string context = fmt::format("product_mappings: put {} '{}' -> product '{}'", m.provider,
                                    m.external_id, m.product_id);
  auto lease = TALLY_TRY(Acquire(context));
  TALLY_RETURN_IF_ERROR(EnsureStaging(lease.pooled()));
  PGconn* conn = lease.get();
  ReplayStats stats;
  Status status = InTransaction(conn, context, Writer::kExclusive, [&]() -> Status {
    auto put = pg::Run(
        conn,
        "INSERT INTO product_mappings (provider, external_id, product_id, channel_id, created_at) "
        "VALUES ($1, $2, $3::uuid, $4::uuid, tally_ts($5::bigint)) ON CONFLICT (provider, "
        "external_id) DO UPDATE SET product_id = excluded.product_id, "
        "channel_id = excluded.channel_id",
        {m.provider, m.external_id, m.product_id, m.channel_id,
         std::to_string(core::ToMicros(m.created_at))},
        context);
    if (!put) {
      if (put.error().code() == core::ErrorCode::kConflict ||
          put.error().code() == core::ErrorCode::kInvalidArgument) {
        return std::unexpected(core::Error::Conflict(
            fmt::format("{}: product_id '{}' or channel_id '{}' does not exist", context,
                        m.product_id, m.channel_id.value_or(""))));
      }
      return std::unexpected(put.error());
    }
    stats = TALLY_TRY(ReplayLocked(conn, lease.pooled(), &m.provider, resolve, m.created_at));
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

Result<ReplayStats> PostgresStore::ReplayParked(const ParkedResolver& resolve,
                                                core::Timestamp now) {
  std::lock_guard lock(write_mu_);
  auto lease = TALLY_TRY(Acquire("parked_events: replay"));
  TALLY_RETURN_IF_ERROR(EnsureStaging(lease.pooled()));
  PGconn* conn = lease.get();
  ReplayStats stats;
  Status status = InTransaction(conn, "parked_events: replay", Writer::kExclusive, [&]() -> Status {
    stats = TALLY_TRY(ReplayLocked(conn, lease.pooled(), nullptr, resolve, now));
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

}  // namespace tally::store
