// SqliteStore: reading the rollups, rebuilding them from raw, and the
// subscription events MRR and churn need. Incremental maintenance is in
// sqlite_rollup_writer.cc.
#include <fmt/format.h>

#include "store/sqlite/sqlite_rollup_schema.h"
#include "store/sqlite/sqlite_store.h"

namespace tally::store {
namespace {

using sqlite::Statement;

// Runs sql with the times bound to ?1, ?2, ... (as micros) and hands each
// row to read.
template <typename Row, typename ReadFn>
Status ReadRows(sqlite3* db, std::string_view sql, std::string_view context,
                std::initializer_list<core::Timestamp> times, ReadFn read, std::vector<Row>* out) {
  auto stmt = TALLY_TRY(Statement::Prepare(db, sql, context));
  int i = 0;
  for (core::Timestamp t : times) stmt.BindInt(++i, core::ToMicros(t));
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) out->push_back(read(stmt));
  if (rc != SQLITE_DONE) return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
  return core::OkStatus();
}

// A range query over [from, to) on the bucket column (?1, ?2).
template <typename Row, typename ReadFn>
Status ReadRange(sqlite3* db, std::string_view sql, std::string_view context, core::Timestamp from,
                 core::Timestamp to, ReadFn read, std::vector<Row>* out) {
  return ReadRows(db, sql, context, {from, to}, read, out);
}

}  // namespace

Result<RollupSet> SqliteStore::ReadRollups(core::Timestamp from, core::Timestamp to,
                                           unsigned kinds) {
  TALLY_RETURN_IF_ERROR(CheckRollupRead(from, to, kinds));
  auto reader = TALLY_TRY(AcquireReader());
  sqlite3* db = reader.get();
  // One read transaction, so the tables read are one consistent snapshot.
  // Pooled readers refuse transaction control (an authorizer meant for user
  // SQL); this internal BEGIN/COMMIT is lifted past it.
  auto exec_unguarded = [db](const char* sql) {
    sqlite3_set_authorizer(db, nullptr, nullptr);
    core::Status s = sqlite::Exec(db, sql, "rollups: read transaction");
    sqlite::InstallQueryAuthorizer(db);
    return s;
  };
  TALLY_RETURN_IF_ERROR(exec_unguarded("BEGIN"));
  struct EndRead {
    std::function<core::Status(const char*)> exec;
    ~EndRead() { (void)exec("COMMIT"); }
  } end_read{exec_unguarded};
  RollupSet set;
  if (kinds & (kAgentCostRollup | kAgentCostDailyRollup)) {
    const bool daily = (kinds & kAgentCostDailyRollup) != 0;
    const std::string table = daily ? "agent_costs_daily" : "agent_costs_hourly";
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        (kinds & kProductGrain)
            ? "SELECT bucket, '', '', '', sum(call_count), sum(total_input_tokens), "
              "sum(total_output_tokens), sum(total_cached_tokens), sum(total_cost), "
              "sum(sum_latency_ms), sum(error_count) FROM " +
                  table + " WHERE bucket >= ?1 AND bucket < ?2 GROUP BY 1 ORDER BY 1"
            : "SELECT bucket, agent_id, model, provider, call_count, total_input_tokens, "
              "total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "
              "error_count FROM " +
                  table + " WHERE bucket >= ?1 AND bucket < ?2 ORDER BY 1, 2, 3, 4",
        daily ? "agent_costs_daily: read" : "agent_costs_hourly: read", from, to,
        [](const Statement& s) {
          return AgentCostRow{core::FromMicros(s.ColumnInt(0)),
                              s.ColumnText(1),
                              s.ColumnText(2),
                              s.ColumnText(3),
                              s.ColumnInt(4),
                              s.ColumnInt(5),
                              s.ColumnInt(6),
                              s.ColumnInt(7),
                              s.ColumnInt(8),
                              s.ColumnInt(9),
                              s.ColumnInt(10)};
        },
        &set.agent_costs));
  }
  if (kinds & kRevenueRollup) {
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        "SELECT bucket, product_id, event_type, gross_revenue, refunds, total_revenue, "
        "event_count, "
        "unique_customers FROM revenue_daily WHERE bucket >= ?1 AND bucket < ?2 ORDER BY 1, 2, 3",
        "revenue_daily: read", from, to,
        [](const Statement& s) {
          return RevenueDailyRow{core::FromMicros(s.ColumnInt(0)),
                                 s.ColumnText(1),
                                 s.ColumnText(2),
                                 s.ColumnInt(3),
                                 s.ColumnInt(4),
                                 s.ColumnInt(5),
                                 s.ColumnInt(6),
                                 s.ColumnInt(7)};
        },
        &set.revenue));
  }
  if (kinds & kTaskRollup) {
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        (kinds & kProductGrain)
            ? "SELECT bucket, product_id, '', '', status, task_count, total_cost, llm_cost, "
              "tool_cost, total_duration_ms, steps_sum, steps_count, quality_sum, quality_count "
              "FROM task_costs_product_daily WHERE bucket >= ?1 AND bucket < ?2 "
              "ORDER BY 1, 2, 5"
            : "SELECT bucket, product_id, agent_id, task_type, status, task_count, total_cost, "
              "llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, quality_sum, "
              "quality_count FROM task_costs_daily WHERE bucket >= ?1 AND bucket < ?2 "
              "ORDER BY 1, 2, 3, 4, 5",
        "task_costs_daily: read", from, to,
        [](const Statement& s) {
          return TaskCostRow{core::FromMicros(s.ColumnInt(0)),
                             s.ColumnText(1),
                             s.ColumnText(2),
                             s.ColumnText(3),
                             s.ColumnText(4),
                             s.ColumnInt(5),
                             s.ColumnInt(6),
                             s.ColumnInt(7),
                             s.ColumnInt(8),
                             s.ColumnInt(9),
                             s.ColumnInt(10),
                             s.ColumnInt(11),
                             s.ColumnInt(12),
                             s.ColumnInt(13)};
        },
        &set.tasks));
  }
  if (kinds & kInfraRollup) {
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        "SELECT bucket, product_id, cost_type, total_cost, event_count FROM infra_costs_daily "
        "WHERE bucket >= ?1 AND bucket < ?2 ORDER BY 1, 2, 3",
        "infra_costs_daily: read", from, to,
        [](const Statement& s) {
          return InfraDailyRow{core::FromMicros(s.ColumnInt(0)), s.ColumnText(1), s.ColumnText(2),
                               s.ColumnInt(3), s.ColumnInt(4)};
        },
        &set.infra));
  }
  if (kinds & kGrowthRollup) {
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        "SELECT bucket, product_id, channel, metric, total_value, event_count, last_time, "
        "last_value FROM growth_daily WHERE bucket >= ?1 AND bucket < ?2 ORDER BY 1, 2, 3, 4",
        "growth_daily: read", from, to,
        [](const Statement& s) {
          return GrowthDailyRow{core::FromMicros(s.ColumnInt(0)),
                                s.ColumnText(1),
                                s.ColumnText(2),
                                s.ColumnText(3),
                                s.ColumnInt(4),
                                s.ColumnInt(5),
                                core::FromMicros(s.ColumnInt(6)),
                                s.ColumnInt(7)};
        },
        &set.growth));
  }
  if (kinds & kOpsRollup) {
    TALLY_RETURN_IF_ERROR(ReadRange(
        db,
        "SELECT bucket, product_id, kind, event_count, failure_count, latency_ms_sum, "
        "latency_count FROM ops_daily WHERE bucket >= ?1 AND bucket < ?2 ORDER BY 1, 2, 3",
        "ops_daily: read", from, to,
        [](const Statement& s) {
          return OpsDailyRow{core::FromMicros(s.ColumnInt(0)), s.ColumnText(1), s.ColumnText(2),
                             s.ColumnInt(3), s.ColumnInt(4), s.ColumnInt(5), s.ColumnInt(6)};
        },
        &set.ops));
  }
  return set;
}

Status SqliteStore::RebuildRollups() {
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("rollups rebuild"));
  const std::string sql(sqlite::kRebuildRollupsSql);
  return InWriteTransaction(db, "rollups rebuild", [&]() -> Status {
    TALLY_RETURN_IF_ERROR(SyncRollupCalendar(db));
    return sqlite::Exec(db, sql.c_str(), "rollups rebuild");
  });
}

namespace {

constexpr std::string_view kZoneSql =
    "SELECT value FROM store_settings WHERE key = 'rollup_time_zone'";

Result<std::string> ReadZone(sqlite3* db) {
  auto stmt = TALLY_TRY(Statement::Prepare(db, kZoneSql, "store_settings: read"));
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) return stmt.ColumnText(0);
  if (rc == SQLITE_DONE) return std::string("UTC");
  return std::unexpected(sqlite::ErrorFromSqlite(rc, db, "store_settings: read"));
}

}  // namespace

Status SqliteStore::SyncRollupCalendar(sqlite3* db) {
  std::string zone = TALLY_TRY(ReadZone(db));
  if (zone == rollups_.calendar().time_zone()) return core::OkStatus();
  rollups_.SetCalendar(TALLY_TRY(core::BusinessCalendar::Create(zone)));
  return core::OkStatus();
}

Result<std::string> SqliteStore::RollupTimeZone() {
  auto reader = TALLY_TRY(AcquireReader());
  return ReadZone(reader.get());
}

Status SqliteStore::SetRollupTimeZone(const std::string& time_zone) {
  core::BusinessCalendar calendar = TALLY_TRY(core::BusinessCalendar::Create(time_zone));
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer("set rollup time zone"));
  const std::string rebuild(sqlite::kRebuildRollupsSql);
  const core::BusinessCalendar previous = rollups_.calendar();
  Status status = InWriteTransaction(db, "set rollup time zone", [&]() -> Status {
    if (TALLY_TRY(ReadZone(db)) == calendar.time_zone()) return core::OkStatus();
    auto put = TALLY_TRY(Statement::Prepare(
        db, "INSERT INTO store_settings (key, value) VALUES ('rollup_time_zone', ?1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        "store_settings: write"));
    put.BindText(1, calendar.time_zone());
    TALLY_RETURN_IF_ERROR(sqlite::StepDone(put, db, "store_settings: write"));
    rollups_.SetCalendar(calendar);
    return sqlite::Exec(db, rebuild.c_str(), "rollups rebuild");
  });
  // A failed change leaves the stored zone (each append re-reads it anyway).
  if (!status) rollups_.SetCalendar(previous);
  return status;
}

Result<std::vector<ProductLifetime>> SqliteStore::ProductLifetimes(core::Timestamp to) {
  auto reader = TALLY_TRY(AcquireReader());
  constexpr std::string_view kSql =
      "SELECT product_id, sum(net), sum(task), sum(infra), min(first) FROM ("
      "SELECT product_id, total_revenue AS net, 0 AS task, 0 AS infra, "
      "CASE WHEN gross_revenue > 0 THEN bucket END AS first FROM revenue_daily WHERE bucket < ?1 "
      "UNION ALL SELECT product_id, 0, total_cost, 0, NULL FROM task_costs_product_daily "
      "WHERE bucket < ?1 AND product_id <> '' "
      "UNION ALL SELECT product_id, 0, 0, total_cost, NULL FROM infra_costs_daily "
      "WHERE bucket < ?1 AND product_id <> '') GROUP BY product_id ORDER BY product_id";
  std::vector<ProductLifetime> out;
  TALLY_RETURN_IF_ERROR(ReadRows(
      reader.get(), kSql, "rollups: product lifetimes", {to},
      [](const Statement& st) {
        ProductLifetime p{st.ColumnText(0), st.ColumnInt(1), st.ColumnInt(2), st.ColumnInt(3),
                          std::nullopt};
        if (auto first = st.ColumnOptInt(4)) p.first_revenue = core::FromMicros(*first);
        return p;
      },
      &out));
  return out;
}

Result<std::vector<SubscriptionEventRow>> SqliteStore::ListSubscriptionEvents(core::Timestamp to) {
  auto reader = TALLY_TRY(AcquireReader());
  constexpr std::string_view kSql =
      "SELECT time, product_id, coalesce(customer_id, ''), event_type = 'subscription_start', "
      "amount_usd, coalesce(json_extract(metadata, '$.interval'), 'month') FROM revenue_events "
      "WHERE event_type IN ('subscription_start', 'subscription_cancel') AND time < ?1 "
      "ORDER BY time, event_id";
  std::vector<SubscriptionEventRow> out;
  TALLY_RETURN_IF_ERROR(ReadRows(
      reader.get(), kSql, "revenue_events: subscriptions", {to},
      [](const Statement& st) {
        return SubscriptionEventRow{core::FromMicros(st.ColumnInt(0)), st.ColumnText(1),
                                    st.ColumnText(2), st.ColumnInt(3) != 0, st.ColumnOptInt(4),
                                    st.ColumnText(5)};
      },
      &out));
  return out;
}

}  // namespace tally::store
