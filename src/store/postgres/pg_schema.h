// Versioned migrations of the PostgreSQL store (docs/schema.md,
// "PostgreSQL"). Applied in order, each in its own transaction under an
// advisory lock, recorded in schema_migrations, so many tally nodes starting
// at once migrate a database exactly once.
//
// Partitioning of the time-series tables is chosen when they are created:
//  - TimescaleDB loaded (shared_preload_libraries) -> hypertables, compression
//    segmented by agent / product after `compress_after_days`, retention per
//    seed §12 with add_retention_policy;
//  - else pg_partman available -> native monthly range partitions managed by
//    partman (create_parent), retention by dropping whole partitions
//    (part_config.retention, applied by pg::RunMaintenance, pg_maintenance.h,
//    which also forgets the dropped rows' ids in <table>_ids);
//  - else one DEFAULT partition (no retention).
// Retention never touches the rollup tables.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace tally::store::pg {

struct Features {
  bool timescaledb = false;
  bool partman = false;
};

// What the server offers (pg_available_extensions, shared_preload_libraries).
core::Result<Features> DetectFeatures(PGconn* conn);
// How the existing tables are partitioned (after migration): read back from
// the catalog, so a database created elsewhere reports its own layout.
core::Result<Features> InstalledFeatures(PGconn* conn);

int LatestSchemaVersion();
core::Result<int> AppliedSchemaVersion(PGconn* conn);
core::Status MigrateSchema(PGconn* conn, int compress_after_days);

// CREATE OR REPLACE of tally_hour(us) / tally_day(us), the rollups' bucket
// functions (micros since the epoch -> micros of the local hour / day start)
// for an IANA zone: integer arithmetic for UTC, date_trunc in the zone
// otherwise. Run in the transaction that records the zone in store_settings.
std::string BucketFunctionsSql(std::string_view time_zone);

// The role Query runs user SQL as (pg_sql_reader.cc). EnsureSqlReaderRole
// creates it and grants it read access to the current schema when the
// connecting role may; otherwise it logs why and succeeds (user SQL then runs
// as the store's own role). Fails only when the server is unreachable.
inline constexpr std::string_view kSqlReaderRole = "tally_sql_reader";
core::Status EnsureSqlReaderRole(PGconn* conn);

}  // namespace tally::store::pg
