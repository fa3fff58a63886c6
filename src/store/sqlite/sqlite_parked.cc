// SqliteStore: product mappings and parked webhooks (store/parked.h).
//
// Every write here runs in one IMMEDIATE transaction under write_mu_, the same
// lock Append takes, so a mapping added concurrently with a webhook is seen
// either by the park (which then stores the events) or by the replay (which
// then finds the parked row): an event is never left parked next to a
// mapping that would release it.
#include <fmt/format.h>

#include <map>

#include "store/sqlite/sqlite_store.h"

namespace tally::store {
namespace {

using sqlite::Statement;

constexpr std::string_view kParkedColumns =
    "id, provider, provider_event_id, event_type, reason, payload, received_at, replayed_at";

ParkedEvent ReadParked(const Statement& s) {
  ParkedEvent p;
  p.id = s.ColumnInt(0);
  p.provider = s.ColumnText(1);
  p.provider_event_id = s.ColumnText(2);
  p.event_type = s.ColumnText(3);
  p.reason = s.ColumnText(4);
  p.payload = s.ColumnText(5);
  p.received_at = core::FromMicros(s.ColumnInt(6));
  if (auto r = s.ColumnOptInt(7)) p.replayed_at = core::FromMicros(*r);
  return p;
}

Result<std::vector<ProductMapping>> ReadMappings(sqlite3* db, const std::string& provider) {
  auto stmt = TALLY_TRY(Statement::Prepare(
      db,
      "SELECT provider, external_id, product_id, channel_id, created_at FROM product_mappings "
      "WHERE provider = ?1 ORDER BY external_id",
      "product_mappings: list"));
  stmt.BindText(1, provider);
  std::vector<ProductMapping> out;
  while (true) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) {
      return std::unexpected(sqlite::ErrorFromSqlite(
          rc, db, fmt::format("product_mappings: list provider '{}'", provider)));
    }
    out.push_back(ProductMapping{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2),
                                 stmt.ColumnOptText(3), core::FromMicros(stmt.ColumnInt(4))});
  }
}

Result<std::vector<ParkedEvent>> ReadParkedRows(sqlite3* db, std::string_view where,
                                                const std::string* provider) {
  auto stmt = TALLY_TRY(Statement::Prepare(
      db, fmt::format("SELECT {} FROM parked_events {} ORDER BY id", kParkedColumns, where),
      "parked_events: list"));
  if (provider != nullptr) stmt.BindText(1, *provider);
  std::vector<ParkedEvent> out;
  while (true) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) {
      return std::unexpected(sqlite::ErrorFromSqlite(rc, db, "parked_events: list"));
    }
    out.push_back(ReadParked(stmt));
  }
}

}  // namespace

Result<std::vector<ProductMapping>> SqliteStore::ListMappings(const std::string& provider) {
  auto reader = TALLY_TRY(AcquireReader());
  return ReadMappings(reader.get(), provider);
}

Result<std::vector<ParkedEvent>> SqliteStore::ListParked(bool include_replayed) {
  auto reader = TALLY_TRY(AcquireReader());
  return ReadParkedRows(reader.get(), include_replayed ? "" : "WHERE replayed_at IS NULL", nullptr);
}

Result<ParkOutcome> SqliteStore::ParkEvent(const ParkedEvent& parked,
                                           const ParkedResolver& resolve) {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("park event"));
  ParkOutcome outcome;
  std::string context = fmt::format("parked_events: park {} event '{}'", parked.provider,
                                    parked.provider_event_id);
  Status status = InWriteTransaction(db, context, [&]() -> Status {
    auto existing = TALLY_TRY(Statement::Prepare(
        db, "SELECT id FROM parked_events WHERE provider = ?1 AND provider_event_id = ?2", context));
    existing.BindText(1, parked.provider);
    existing.BindText(2, parked.provider_event_id);
    int rc = existing.Step();
    if (rc == SQLITE_ROW) {
      outcome.kind = ParkOutcome::Kind::kDuplicate;
      outcome.parked_id = existing.ColumnInt(0);
      return core::OkStatus();
    }
    if (rc != SQLITE_DONE) return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));

    // The caller decided "unmapped" from mappings it read earlier; look again
    // under the write lock so a mapping added in between is not missed.
    auto mappings = TALLY_TRY(ReadMappings(db, parked.provider));
    auto step = TALLY_TRY(
        ApplyParkedResolution(parked, resolve(parked, mappings), "webhook:", 
                              [&](auto batches, auto* stats) { return AppendInTransaction(db, batches, stats); }));
    if (step.stored) {
      outcome.kind = ParkOutcome::Kind::kStored;
      outcome.accepted = step.accepted;
      outcome.duplicates = step.duplicates;
      return core::OkStatus();
    }
    const std::string& reason = step.reason;
    auto insert = TALLY_TRY(Statement::Prepare(
        db,
        "INSERT INTO parked_events (provider, provider_event_id, event_type, reason, payload, "
        "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        context));
    int bind = insert.BindText(1, parked.provider) | insert.BindText(2, parked.provider_event_id) |
               insert.BindText(3, parked.event_type) | insert.BindText(4, reason) |
               insert.BindText(5, parked.payload) |
               insert.BindInt(6, core::ToMicros(parked.received_at));
    if (bind != SQLITE_OK) return std::unexpected(sqlite::ErrorFromSqlite(bind, db, context));
    TALLY_RETURN_IF_ERROR(StepDone(insert, db, context));
    outcome.kind = ParkOutcome::Kind::kParked;
    outcome.parked_id = sqlite3_last_insert_rowid(db);
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return outcome;
}

Result<ReplayStats> SqliteStore::ReplayLocked(sqlite3* db, const std::string* provider,
                                              const ParkedResolver& resolve, core::Timestamp now) {
  ReplayStats stats;
  auto pending = TALLY_TRY(ReadParkedRows(
      db,
      provider != nullptr ? "WHERE replayed_at IS NULL AND provider = ?1"
                          : "WHERE replayed_at IS NULL",
      provider));
  std::map<std::string, std::vector<ProductMapping>> mappings_by_provider;
  auto mark = TALLY_TRY(Statement::Prepare(
      db, "UPDATE parked_events SET replayed_at = ?1, reason = ?2 WHERE id = ?3",
      "parked_events: mark"));
  for (const ParkedEvent& parked : pending) {
    auto it = mappings_by_provider.find(parked.provider);
    if (it == mappings_by_provider.end()) {
      it = mappings_by_provider
               .emplace(parked.provider, TALLY_TRY(ReadMappings(db, parked.provider)))
               .first;
    }
    auto step = TALLY_TRY(
        ApplyParkedResolution(parked, resolve(parked, it->second), "replay:", 
                              [&](auto batches, auto* stats) { return AppendInTransaction(db, batches, stats); }));
    const std::string& reason = step.reason;
    std::optional<std::int64_t> replayed_at;
    if (step.stored) {
      stats.accepted += step.accepted;
      stats.duplicates += step.duplicates;
      replayed_at = core::ToMicros(now);
    }
    ++(replayed_at ? stats.replayed : stats.still_parked);
    sqlite::ScopedReset reset(mark);
    int bind = mark.BindOptInt(1, replayed_at) | mark.BindText(2, reason) | mark.BindInt(3, parked.id);
    if (bind != SQLITE_OK) {
      return std::unexpected(sqlite::ErrorFromSqlite(bind, db, "parked_events: mark"));
    }
    TALLY_RETURN_IF_ERROR(
        StepDone(mark, db, fmt::format("parked_events: mark id {}", parked.id)));
  }
  return stats;
}

Result<ReplayStats> SqliteStore::PutMappingAndReplay(const ProductMapping& m,
                                                     const ParkedResolver& resolve) {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("put mapping"));
  std::string context =
      fmt::format("product_mappings: put {} '{}' -> product '{}'", m.provider, m.external_id,
                  m.product_id);
  ReplayStats stats;
  Status status = InWriteTransaction(db, context, [&]() -> Status {
    auto put = TALLY_TRY(Statement::Prepare(
        db,
        "INSERT INTO product_mappings (provider, external_id, product_id, channel_id, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (provider, external_id) DO UPDATE SET "
        "product_id = excluded.product_id, channel_id = excluded.channel_id",
        context));
    int bind = put.BindText(1, m.provider) | put.BindText(2, m.external_id) |
               put.BindText(3, m.product_id) | put.BindOptText(4, m.channel_id) |
               put.BindInt(5, core::ToMicros(m.created_at));
    if (bind != SQLITE_OK) return std::unexpected(sqlite::ErrorFromSqlite(bind, db, context));
    if (auto s = StepDone(put, db, context); !s) {
      if (s.error().code() == core::ErrorCode::kConflict) {
        return std::unexpected(core::Error::Conflict(fmt::format(
            "{}: product_id '{}' or channel_id '{}' does not exist", context, m.product_id,
            m.channel_id.value_or(""))));
      }
      return s;
    }
    stats = TALLY_TRY(ReplayLocked(db, &m.provider, resolve, m.created_at));
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

Result<ReplayStats> SqliteStore::ReplayParked(const ParkedResolver& resolve, core::Timestamp now) {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("replay parked"));
  ReplayStats stats;
  Status status = InWriteTransaction(db, "parked_events: replay", [&]() -> Status {
    stats = TALLY_TRY(ReplayLocked(db, nullptr, resolve, now));
    return core::OkStatus();
  });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

}  // namespace tally::store
