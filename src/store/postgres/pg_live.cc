// PostgresStore: the reads that rebuild live counters, and kill-switch state.
#include <fmt/format.h>

#include "store/postgres/pg_store.h"

namespace tally::store {

Result<std::vector<LlmSpendBucket>> PostgresStore::LlmSpendSince(core::Timestamp since,
                                                                 std::chrono::seconds bucket) {
  TALLY_RETURN_IF_ERROR(CheckLiveBucket(bucket));
  // Money summed as NUMERIC (exact), then converted to micro-USD.
  auto res = TALLY_TRY(ReadOne(
      "llm_calls: spend since",
      "SELECT agent_id, (tally_us(time) / $2::bigint) * $2::bigint AS b, "
      "(sum(cost_usd) * 1000000)::bigint, count(*), count(*) FILTER (WHERE status <> 'success') "
      "FROM llm_calls WHERE time >= tally_ts($1::bigint) GROUP BY 1, 2 "
      "ORDER BY agent_id COLLATE \"C\", b",
      {std::to_string(core::ToMicros(since)), std::to_string(bucket.count() * 1'000'000)}));
  std::vector<LlmSpendBucket> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back(LlmSpendBucket{pg::Text(r, i, 0), core::FromMicros(pg::Int(r, i, 1)),
                                 pg::Int(r, i, 2), pg::Int(r, i, 3), pg::Int(r, i, 4)});
  }
  return out;
}

Result<std::vector<RevenueBucket>> PostgresStore::RevenueSince(core::Timestamp since,
                                                               std::chrono::seconds bucket) {
  TALLY_RETURN_IF_ERROR(CheckLiveBucket(bucket));
  auto res = TALLY_TRY(ReadOne(
      "revenue_events: since",
      "SELECT product_id::text, (tally_us(time) / $2::bigint) * $2::bigint AS b, "
      "(sum(amount_usd) * 1000000)::bigint FROM revenue_events "
      "WHERE time >= tally_ts($1::bigint) AND amount_usd IS NOT NULL GROUP BY 1, 2 "
      "ORDER BY product_id::text COLLATE \"C\", b",
      {std::to_string(core::ToMicros(since)), std::to_string(bucket.count() * 1'000'000)}));
  std::vector<RevenueBucket> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back(
        RevenueBucket{pg::Text(r, i, 0), core::FromMicros(pg::Int(r, i, 1)), pg::Int(r, i, 2)});
  }
  return out;
}

Status PostgresStore::SetKillSwitch(const KillSwitchChange& change) {
  std::string context = fmt::format("kill switch '{}'", change.target);
  auto lease = TALLY_TRY(Acquire(context));
  PGconn* conn = lease.get();
  const std::string at = std::to_string(core::ToMicros(change.at));
  return InTransaction(conn, context, Writer::kNone, [&]() -> Status {
    if (change.target == kFactoryTarget) {
      TALLY_TRY(pg::Run(conn,
                        "INSERT INTO kill_switches (target, paused, reason, actor, updated_at) "
                        "VALUES ($1, $2, $3, $4, tally_ts($5::bigint)) ON CONFLICT (target) DO "
                        "UPDATE SET paused = excluded.paused, reason = excluded.reason, "
                        "actor = excluded.actor, updated_at = excluded.updated_at",
                        {change.target, change.paused ? "true" : "false", change.reason,
                         change.actor, at},
                        context));
    } else {
      auto res = TALLY_TRY(pg::Run(conn, "UPDATE agents SET status = $2 WHERE id = $1",
                                   {change.target, change.paused ? "paused" : "active"}, context));
      if (std::atoll(PQcmdTuples(res.get())) == 0) {
        return std::unexpected(
            core::Error::NotFound(fmt::format("agent '{}' not found", change.target)));
      }
    }
    TALLY_TRY(pg::Run(conn,
                      "INSERT INTO audit_log (time, actor, action, target, reason) "
                      "VALUES (tally_ts($1::bigint), $2, $3, $4, $5)",
                      {at, change.actor, change.paused ? "pause" : "resume", change.target,
                       change.reason},
                      context));
    return core::OkStatus();
  });
}

Result<std::optional<KillSwitchChange>> PostgresStore::GetFactoryKillSwitch() {
  auto res = TALLY_TRY(ReadOne(
      "kill_switches: read",
      "SELECT paused, reason, actor, tally_us(updated_at) FROM kill_switches WHERE target = $1",
      {std::string(kFactoryTarget)}));
  const PGresult* r = res.get();
  if (PQntuples(r) == 0) return std::optional<KillSwitchChange>();
  return std::optional<KillSwitchChange>(KillSwitchChange{kFactoryTarget, pg::Text(r, 0, 0) == "t",
                                                          pg::Text(r, 0, 1), pg::Text(r, 0, 2),
                                                          core::FromMicros(pg::Int(r, 0, 3))});
}

}  // namespace tally::store
