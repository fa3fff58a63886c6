#include "store/postgres/pg_maintenance.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_kinds.h"
#include "store/postgres/pg_locks.h"
#include "store/postgres/pg_schema.h"

namespace tally::store::pg {
namespace {

struct Child {
  std::int64_t start_us = 0, end_us = 0;
};

// The parent's time partitions (not the DEFAULT one) by qualified name.
core::Result<std::map<std::string, Child>> Children(PGconn* conn, const std::string& parent) {
  auto res = TALLY_TRY(Run(
      conn,
      "SELECT p.partition_schemaname || '.' || p.partition_tablename, "
      "tally_us(i.child_start_time), tally_us(i.child_end_time) "
      "FROM partman.show_partitions($1) p, LATERAL partman.show_partition_info("
      "p.partition_schemaname || '.' || p.partition_tablename, p_parent_table := $1) i",
      {parent}, fmt::format("maintenance: partitions of {}", parent)));
  std::map<std::string, Child> out;
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    out[Text(res.get(), r, 0)] = Child{Int(res.get(), r, 1), Int(res.get(), r, 2)};
  }
  return out;
}

// In an open transaction: false when another session holds the maintenance
// lock (released at the transaction's end).
core::Result<bool> TryLock(PGconn* conn) {
  auto res = TALLY_TRY(Run(conn, fmt::format("SELECT pg_try_advisory_xact_lock({})", kMaintenanceLock),
                           {}, "maintenance: lock"));
  return Text(res.get(), 0, 0) == "t";
}

// BEGIN; body; COMMIT (ROLLBACK on failure).
template <typename Body>
core::Status Transaction(PGconn* conn, std::string_view context, Body body) {
  TALLY_RETURN_IF_ERROR(Exec(conn, "BEGIN", context));
  core::Status status = body();
  if (status) status = Exec(conn, "COMMIT", context);
  if (!status && PQstatus(conn) == CONNECTION_OK) (void)Exec(conn, "ROLLBACK", context);
  return status;
}

// One event table: partman's maintenance for it, the id horizon moved past
// what it dropped, under the write lock.
core::Status MaintainTable(PGconn* conn, const KindSpec& k, MaintenanceReport* report) {
  const std::string table(k.table);
  const std::string context = fmt::format("maintenance: {}", table);
  auto schema = TALLY_TRY(Run(conn, "SELECT current_schema()", {}, context));
  const std::string parent = Text(schema.get(), 0, 0) + "." + table;
  return Transaction(conn, context, [&]() -> core::Status {
    if (!TALLY_TRY(TryLock(conn))) {
      report->skipped = true;
      return core::OkStatus();
    }
    // Exclusive: no append is mid-transaction while partitions change.
    TALLY_RETURN_IF_ERROR(Exec(conn, ExclusiveWriterLocks(), context));
    auto before = TALLY_TRY(Children(conn, parent));
    // Which of the partitions retention may drop hold rows: only those move
    // the id horizon (an empty one forgets no id).
    std::map<std::string, bool> held;
    auto now = TALLY_TRY(Run(conn, "SELECT tally_us(now())", {}, context));
    const std::int64_t now_us = Int(now.get(), 0, 0);
    for (const auto& [name, child] : before) {
      if (k.retention_days == 0 || child.end_us > now_us) continue;
      auto rows = TALLY_TRY(Run(conn, fmt::format("SELECT EXISTS (SELECT 1 FROM {})", name), {},
                                context));
      held[name] = Text(rows.get(), 0, 0) == "t";
    }
    TALLY_RETURN_IF_ERROR(Exec(conn,
                               fmt::format("SELECT partman.run_maintenance('{}', p_analyze := false, "
                                           "p_jobmon := false)",
                                           parent),
                               context));
    auto after = TALLY_TRY(Children(conn, parent));
    std::optional<std::int64_t> horizon;
    for (const auto& [name, child] : before) {
      if (after.contains(name)) continue;
      ++report->partitions_dropped;
      if (auto it = held.find(name); it != held.end() && it->second) {
        horizon = std::max(horizon.value_or(child.end_us), child.end_us);
      }
    }
    for (const auto& [name, child] : after) {
      if (!before.contains(name)) ++report->partitions_created;
    }
    if (!horizon) return core::OkStatus();
    return Exec(conn,
                fmt::format("INSERT INTO tally_id_horizons AS h (table_name, horizon) VALUES ('{}', "
                            "tally_ts({})) ON CONFLICT (table_name) DO UPDATE SET horizon = "
                            "greatest(h.horizon, excluded.horizon)",
                            table, *horizon),
                context);
  });
}

// Forgets the ids older than the table's horizon (committed before, so no
// append stores an event that old any more).
core::Status PruneIds(PGconn* conn, const KindSpec& k, MaintenanceReport* report) {
  const std::string context = fmt::format("maintenance: {}_ids", k.table);
  return Transaction(conn, context, [&]() -> core::Status {
    if (!TALLY_TRY(TryLock(conn))) {
      report->skipped = true;
      return core::OkStatus();
    }
    auto res = TALLY_TRY(Run(
        conn,
        fmt::format("DELETE FROM {0}_ids WHERE time < (SELECT horizon FROM tally_id_horizons "
                    "WHERE table_name = '{0}')",
                    k.table),
        {}, context));
    report->ids_pruned += std::atoll(PQcmdTuples(res.get()));
    return core::OkStatus();
  });
}

}  // namespace

core::Result<MaintenanceReport> RunMaintenance(PGconn* conn) {
  MaintenanceReport report;
  Features f = TALLY_TRY(InstalledFeatures(conn));
  if (!f.partman || f.timescaledb) return report;
  for (const KindSpec& k : Kinds()) {
    TALLY_RETURN_IF_ERROR(MaintainTable(conn, k, &report));
    if (report.skipped) return report;
    if (k.retention_days == 0) continue;
    TALLY_RETURN_IF_ERROR(PruneIds(conn, k, &report));
    if (report.skipped) return report;
  }
  return report;
}

}  // namespace tally::store::pg
