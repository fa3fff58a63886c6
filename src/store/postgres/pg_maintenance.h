// Partition maintenance of the PostgreSQL store with pg_partman: premaking
// the coming monthly partitions of the six event tables, dropping those past
// retention (seed §12), and forgetting the ids of the dropped rows in
// <table>_ids so the idempotency tables follow the raw tables' retention.
// `tally serve` runs it hourly (PostgresStore::StartMaintenance) and every
// writable open runs it once; no operator cron is needed.
//
// Guarantees:
//  - many nodes on one database: a run takes a transaction-level advisory
//    lock with try-semantics; while another node holds it, the run is
//    skipped (report.skipped), never run twice at once;
//  - rollups are never touched;
//  - exactly-once is kept: per table, partitions are dropped and the id
//    horizon (tally_id_horizons) moved to the end of the newest dropped
//    partition that held rows, in one transaction under the store's write
//    lock; only then are ids older than the horizon deleted. Append counts an
//    event older than its table's horizon as a duplicate without storing it,
//    since its id may have been forgotten (pg_append.cc). Partitions dropped
//    empty move no horizon.
//  - a no-op with TimescaleDB (its own retention jobs; ids are then kept
//    forever) or without pg_partman (no retention).
#pragma once

#include <libpq-fe.h>

#include <cstdint>

#include "core/result.h"

namespace tally::store::pg {

struct MaintenanceReport {
  bool skipped = false;  // another node was running the maintenance
  std::int64_t partitions_created = 0;
  std::int64_t partitions_dropped = 0;
  std::int64_t ids_pruned = 0;
};

// Changes partitions as an exclusive writer (pg_locks.h).
core::Result<MaintenanceReport> RunMaintenance(PGconn* conn);

// The key of the maintenance's own advisory lock (tests hold it to see a run
// skipped).
inline constexpr std::int64_t kMaintenanceLock = 0x7461'6c6c'796d'6e74;  // "tallymnt"

}  // namespace tally::store::pg
