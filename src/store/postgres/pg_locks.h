// The cluster-wide advisory locks tally's writers take on PostgreSQL, with
// keys every tally node agrees on. Two locks, always taken in this order:
//
//  - kIngestLock: appends hold it SHARED for their whole transaction, so
//    several appends (threads or nodes) claim ids and COPY raw rows at once;
//    exclusive writers (partition maintenance, parked replays, rollup
//    rebuilds, appends with running totals) hold it EXCLUSIVELY, so they
//    never overlap an append at all.
//  - kWriteLock: taken by every writer before it touches rollups, and held
//    to COMMIT, so rollup updates (and everything exclusive writers do) are
//    serialized cluster-wide.
//
// Why no deadlock: a lock holder only ever waits for a lock that comes later
// in the order, except appends waiting in a unique-index insert for an
// id another append claimed first; appends claim ids in byte order per table
// and tables in a fixed order, so such waits cannot close a cycle, and the
// holder of kWriteLock never waits on an append's claims.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace tally::store::pg {

inline constexpr std::int64_t kIngestLock = 0x7461'6c6c'7969'6e67;  // "tallying"
inline constexpr std::int64_t kWriteLock = 0x7461'6c6c'7977'7269;   // "tallywri"

// Statements opening an exclusive writer's transaction (after BEGIN).
inline std::string ExclusiveWriterLocks() {
  return fmt::format("SELECT pg_advisory_xact_lock({}); SELECT pg_advisory_xact_lock({})",
                     kIngestLock, kWriteLock);
}

}  // namespace tally::store::pg
