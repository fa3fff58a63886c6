// SqliteStore::Append: the hot path. All batches go into one IMMEDIATE
// transaction through one cached INSERT per table; durability costs one WAL
// fsync per call, so callers (the pipeline's group commit) pass many events.
#include <fmt/format.h>

#include <array>

#include "store/cumulative.h"
#include "store/sqlite/sqlite_store.h"

namespace tally::store {
namespace {

using sqlite::Statement;

// "ON CONFLICT(event_id) DO NOTHING" rather than "INSERT OR IGNORE": OR IGNORE
// would also silently skip rows that break a CHECK or NOT NULL constraint and
// count them as duplicates. Column order matches the Bind functions below.
constexpr std::array<std::string_view, model::kEventKindCount> kInsertSql = {
    "INSERT INTO llm_calls (time, agent_id, task_id, model, provider, input_tokens, "
    "output_tokens, cached_tokens, cost_usd, latency_ms, status, error_type, reservation_id, "
    "metadata, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT (event_id) DO NOTHING",
    "INSERT INTO revenue_events (time, product_id, channel_id, event_type, amount_usd, currency, "
    "customer_id, metadata, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (event_id) DO NOTHING",
    "INSERT INTO task_events (time, task_id, agent_id, product_id, task_type, status, "
    "duration_ms, total_cost_usd, steps_count, quality_score, metadata, event_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
    "ON CONFLICT (event_id) DO NOTHING",
    "INSERT INTO infra_costs (time, product_id, cost_type, provider, amount_usd, billing_period, "
    "metadata, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (event_id) DO NOTHING",
    "INSERT INTO growth_events (time, product_id, channel, metric, value, metadata, event_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (event_id) DO NOTHING",
    "INSERT INTO ops_events (time, product_id, kind, source, status, latency_ms, status_code, "
    "repository, metadata, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (event_id) DO NOTHING",
};

std::optional<std::int64_t> OptMicros(const std::optional<core::Money>& m) {
  if (!m) return std::nullopt;
  return m->micros();
}

// Each returns the OR of its bind result codes (0 when all succeeded).
int Bind(Statement& s, const model::LlmCall& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindText(2, e.agent_id) |
         s.BindOptText(3, e.task_id) | s.BindText(4, e.model) | s.BindText(5, e.provider) |
         s.BindInt(6, e.input_tokens) | s.BindInt(7, e.output_tokens) |
         s.BindInt(8, e.cached_tokens) | s.BindInt(9, e.cost_usd.micros()) |
         s.BindInt(10, e.latency_ms) | s.BindText(11, model::ToString(e.status)) |
         s.BindOptText(12, e.error_type) | s.BindOptText(13, e.reservation_id) |
         s.BindTextOrNull(14, e.metadata) | s.BindText(15, e.event_id);
}

int Bind(Statement& s, const model::RevenueEvent& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindText(2, e.product_id) |
         s.BindOptText(3, e.channel_id) | s.BindText(4, model::ToString(e.event_type)) |
         s.BindOptInt(5, OptMicros(e.amount_usd)) | s.BindText(6, e.currency) |
         s.BindOptText(7, e.customer_id) | s.BindTextOrNull(8, e.metadata) |
         s.BindText(9, e.event_id);
}

int Bind(Statement& s, const model::TaskEvent& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindText(2, e.task_id) |
         s.BindText(3, e.agent_id) | s.BindOptText(4, e.product_id) | s.BindText(5, e.task_type) |
         s.BindText(6, model::ToString(e.status)) | s.BindOptInt(7, e.duration_ms) |
         s.BindOptInt(8, OptMicros(e.total_cost_usd)) | s.BindOptInt(9, e.steps_count) |
         s.BindOptInt(10, e.quality_score_centi) | s.BindTextOrNull(11, e.metadata) |
         s.BindText(12, e.event_id);
}

int Bind(Statement& s, const model::InfraCost& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindOptText(2, e.product_id) |
         s.BindText(3, e.cost_type) | s.BindText(4, e.provider) |
         s.BindInt(5, e.amount_usd.micros()) | s.BindOptText(6, e.billing_period) |
         s.BindTextOrNull(7, e.metadata) | s.BindText(8, e.event_id);
}

int Bind(Statement& s, const model::GrowthEvent& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindText(2, e.product_id) |
         s.BindText(3, e.channel) | s.BindText(4, e.metric) | s.BindInt(5, e.value_centi) |
         s.BindTextOrNull(6, e.metadata) | s.BindText(7, e.event_id);
}

int Bind(Statement& s, const model::OpsEvent& e) {
  return s.BindInt(1, core::ToMicros(e.time)) | s.BindOptText(2, e.product_id) |
         s.BindText(3, e.kind) | s.BindText(4, e.source) | s.BindText(5, e.status) |
         s.BindOptInt(6, e.latency_ms) | s.BindOptInt(7, e.status_code) |
         s.BindOptText(8, e.repository) | s.BindTextOrNull(9, e.metadata) |
         s.BindText(10, e.event_id);
}

// The sum of a running total's stored rows (store/cumulative.h), in micro-USD
// as amount_usd is stored; one range of the unique event_id index.
Result<core::Money> StoredRunningTotal(sqlite3* db, const std::string& key) {
  RunningTotalBounds bounds = BoundsOf(key);
  auto stmt = TALLY_TRY(Statement::Prepare(
      db,
      "SELECT coalesce(sum(amount_usd), 0) FROM revenue_events WHERE event_id >= ?1 AND "
      "event_id < ?3 AND (event_id = ?1 OR event_id >= ?2)",
      "revenue_events: running total"));
  stmt.BindText(1, bounds.key);
  stmt.BindText(2, bounds.prefix);
  stmt.BindText(3, bounds.end);
  int rc = stmt.Step();
  if (rc != SQLITE_ROW) {
    return std::unexpected(sqlite::ErrorFromSqlite(
        rc, db, fmt::format("revenue_events: running total of '{}'", key)));
  }
  return core::Money::FromMicros(stmt.ColumnInt(0));
}

}  // namespace

Status SqliteStore::InsertEvent(sqlite3* db, const model::Event& event, bool* inserted) {
  const int kind = static_cast<int>(model::KindOf(event));
  Statement& stmt = insert_stmts_[kind];
  if (!stmt) {
    stmt = TALLY_TRY(Statement::Prepare(
        db, kInsertSql[kind], fmt::format("{}: insert", model::TableName(model::KindOf(event))),
        /*persistent=*/true));
  }
  sqlite::ScopedReset reset(stmt);
  int rc = std::visit([&](const auto& e) { return Bind(stmt, e); }, event);
  if (rc == SQLITE_OK) rc = stmt.Step();
  if (rc != SQLITE_DONE) {
    return std::unexpected(sqlite::ErrorFromSqlite(
        rc, db,
        fmt::format("{}: insert event_id '{}'", model::TableName(model::KindOf(event)),
                    model::EventIdOf(event))));
  }
  // DO NOTHING leaves changes() at 0 for a duplicate, including one stored
  // earlier in this same transaction.
  *inserted = sqlite3_changes(db) > 0;
  return core::OkStatus();
}

Result<std::vector<AppendStats>> SqliteStore::Append(std::span<const model::Batch* const> batches) {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("append"));
  std::vector<AppendStats> stats(batches.size());
  Status status = InWriteTransaction(
      db, "append", [&]() -> Status { return AppendInTransaction(db, batches, &stats); });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

Status SqliteStore::AppendInTransaction(sqlite3* db, std::span<const model::Batch* const> given,
                                        std::vector<AppendStats>* stats_out) {
  // Running totals become their increase, read in this transaction.
  CumulativePlan plan = TALLY_TRY(PlanCumulative(
      given, [db](const std::string& key) { return StoredRunningTotal(db, key); }));
  std::span<const model::Batch* const> batches = plan.batches();
  std::vector<AppendStats>& stats = *stats_out;
  stats.resize(batches.size());
  rollups_.Clear();  // leftovers of a transaction that failed before its Flush
  TALLY_RETURN_IF_ERROR(SyncRollupCalendar(db));
  for (size_t b = 0; b < batches.size(); ++b) {
    const model::Batch& batch = *batches[b];
    for (size_t i = 0; i < batch.events.size(); ++i) {
      bool inserted = false;
      if (auto s = InsertEvent(db, batch.events[i], &inserted); !s) {
        core::Error error = std::move(s).error();
        return std::unexpected(
            core::Error(error.code(), fmt::format("batch {} (source '{}') event {}: {}", b,
                                                  batch.source, i, error.message())));
      }
      ++(inserted ? stats[b].accepted : stats[b].duplicates);
      if (!inserted) stats[b].duplicate_indexes.push_back(static_cast<std::int64_t>(i));
      // Only stored rows count: a duplicate must not change any rollup.
      if (inserted) rollups_.Add(batch.events[i]);
    }
  }
  FinishCumulative(plan, &stats);
  // Rollups commit with the raw rows they summarize (same transaction).
  return rollups_.Flush(db);
}

}  // namespace tally::store
