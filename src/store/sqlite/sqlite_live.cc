// SqliteStore: the reads that rebuild live counters, and kill-switch state.
#include <fmt/format.h>

#include "store/sqlite/sqlite_store.h"

namespace tally::store {

using sqlite::Statement;

Result<std::vector<LlmSpendBucket>> SqliteStore::LlmSpendSince(core::Timestamp since,
                                                               std::chrono::seconds bucket) {
  TALLY_RETURN_IF_ERROR(CheckLiveBucket(bucket));
  // llm_calls has no plain time index (dropped to keep the writer fast), so
  // walk the distinct agent ids by skip-scan over (agent_id, time) and range
  // each agent's calls through the same index: O(agents * log n + rows).
  constexpr std::string_view kSql = R"sql(
WITH RECURSIVE seen(id) AS (
  SELECT (SELECT min(agent_id) FROM llm_calls)
  UNION ALL
  SELECT (SELECT min(agent_id) FROM llm_calls WHERE agent_id > seen.id) FROM seen
  WHERE seen.id IS NOT NULL
)
SELECT c.agent_id, (c.time / ?2) * ?2 AS bucket, sum(c.cost_usd), count(*),
       sum(c.status <> 'success')
FROM seen JOIN llm_calls AS c ON c.agent_id = seen.id AND c.time >= ?1
GROUP BY c.agent_id, bucket
ORDER BY c.agent_id, bucket
)sql";
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(reader.get(), kSql, "llm_calls: spend since"));
  std::int64_t width = bucket.count() * 1'000'000;
  stmt.BindInt(1, core::ToMicros(since));
  stmt.BindInt(2, width);
  std::vector<LlmSpendBucket> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    out.push_back(LlmSpendBucket{stmt.ColumnText(0), core::FromMicros(stmt.ColumnInt(1)),
                                 stmt.ColumnInt(2), stmt.ColumnInt(3), stmt.ColumnInt(4)});
  }
  if (rc != SQLITE_DONE) {
    return std::unexpected(sqlite::ErrorFromSqlite(rc, reader.get(), "llm_calls: spend since"));
  }
  return out;
}

Result<std::vector<RevenueBucket>> SqliteStore::RevenueSince(core::Timestamp since,
                                                             std::chrono::seconds bucket) {
  TALLY_RETURN_IF_ERROR(CheckLiveBucket(bucket));
  constexpr std::string_view kSql = R"sql(
SELECT product_id, (time / ?2) * ?2 AS bucket, sum(amount_usd)
FROM revenue_events
WHERE time >= ?1 AND amount_usd IS NOT NULL
GROUP BY product_id, bucket
ORDER BY product_id, bucket
)sql";
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(reader.get(), kSql, "revenue_events: since"));
  stmt.BindInt(1, core::ToMicros(since));
  stmt.BindInt(2, bucket.count() * 1'000'000);
  std::vector<RevenueBucket> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    out.push_back(RevenueBucket{stmt.ColumnText(0), core::FromMicros(stmt.ColumnInt(1)),
                                stmt.ColumnInt(2)});
  }
  if (rc != SQLITE_DONE) {
    return std::unexpected(sqlite::ErrorFromSqlite(rc, reader.get(), "revenue_events: since"));
  }
  return out;
}

Status SqliteStore::SetKillSwitch(const KillSwitchChange& change) {
  std::string context = fmt::format("kill switch '{}'", change.target);
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  return InWriteTransaction(db, context, [&]() -> Status {
    if (change.target == kFactoryTarget) {
      auto put = TALLY_TRY(Statement::Prepare(
          db,
          "INSERT INTO kill_switches (target, paused, reason, actor, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (target) DO UPDATE SET "
          "paused = excluded.paused, reason = excluded.reason, actor = excluded.actor, "
          "updated_at = excluded.updated_at",
          context));
      put.BindText(1, change.target);
      put.BindInt(2, change.paused ? 1 : 0);
      put.BindText(3, change.reason);
      put.BindText(4, change.actor);
      put.BindInt(5, core::ToMicros(change.at));
      if (int rc = put.Step(); rc != SQLITE_DONE) {
        return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
      }
    } else {
      auto put = TALLY_TRY(Statement::Prepare(db, "UPDATE agents SET status = ?2 WHERE id = ?1", context));
      put.BindText(1, change.target);
      put.BindText(2, change.paused ? "paused" : "active");
      if (int rc = put.Step(); rc != SQLITE_DONE) {
        return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
      }
      if (sqlite3_changes(db) == 0) {
        return std::unexpected(
            core::Error::NotFound(fmt::format("agent '{}' not found", change.target)));
      }
    }
    auto audit = TALLY_TRY(Statement::Prepare(
        db, "INSERT INTO audit_log (time, actor, action, target, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        context));
    audit.BindInt(1, core::ToMicros(change.at));
    audit.BindText(2, change.actor);
    audit.BindText(3, change.paused ? "pause" : "resume");
    audit.BindText(4, change.target);
    audit.BindText(5, change.reason);
    if (int rc = audit.Step(); rc != SQLITE_DONE) {
      return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
    }
    return core::OkStatus();
  });
}

Result<std::optional<KillSwitchChange>> SqliteStore::GetFactoryKillSwitch() {
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(
      reader.get(), "SELECT paused, reason, actor, updated_at FROM kill_switches WHERE target = ?1",
      "kill_switches: read"));
  stmt.BindText(1, kFactoryTarget);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return std::optional<KillSwitchChange>();
  if (rc != SQLITE_ROW) {
    return std::unexpected(sqlite::ErrorFromSqlite(rc, reader.get(), "kill_switches: read"));
  }
  return std::optional<KillSwitchChange>(KillSwitchChange{
      kFactoryTarget, stmt.ColumnInt(0) != 0, stmt.ColumnText(1), stmt.ColumnText(2),
      core::FromMicros(stmt.ColumnInt(3))});
}

}  // namespace tally::store
