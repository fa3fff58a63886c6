// Versioned schema migrations of the SQLite store (docs/schema.md describes
// the resulting schema).
//
// Migrations are an ordered list of SQL scripts, numbered from 1. The table
// schema_migrations(version, applied_at) records which ones ran. Each missing
// migration runs in its own IMMEDIATE transaction together with its record, so
// a crash leaves the database at a whole version, and two processes migrating
// the same file at once (server and CLI) apply each migration exactly once.
// Migrations are append-only: a released one is never edited.
#pragma once

#include <sqlite3.h>

#include "core/result.h"

namespace tally::store::sqlite {

// Highest version this binary knows.
int LatestSchemaVersion();

// Applies, in order, every migration with version <= target_version that is
// not yet recorded. Idempotent. Fails with internal when the database records
// a version newer than this binary knows (it was written by a newer tally).
// `db` must be a writable connection not inside a transaction.
core::Status MigrateSchema(sqlite3* db, int target_version);

// Highest applied version, 0 for a database without schema_migrations.
core::Result<int> AppliedSchemaVersion(sqlite3* db);

}  // namespace tally::store::sqlite
