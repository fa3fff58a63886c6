// RollupWriter: incremental maintenance of the rollup tables (store/rollups.h)
// inside SqliteStore::Append's transaction.
//
// Append calls Add for every event it actually inserted, then Flush once,
// before COMMIT. Add only folds the event into in-memory per-key sums (hash
// maps keyed by views into the events, so the per-row path allocates nothing
// but a node per new key); Flush issues one upsert per distinct key
// ("x = x + excluded.x"). A 50k-row group of LLM calls thus costs a few dozen
// upserts, not 50k. Tasks need their stored state (calls so far, current
// terminal event) to compute cost deltas: one upsert-with-RETURNING per
// distinct task touched.
//
// Lifetime: events passed to Add must stay alive and unchanged until Flush
// (or Clear) returns. Thread-safety: none; owned by the store's writer and
// used under its write mutex. Statements are prepared on first use against
// the connection given to Flush, which must stay the same.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/result.h"
#include "model/event.h"

namespace tally::store::sqlite {

// UTC bucket starts, in microseconds since the epoch (floor, also for times
// before 1970). The SQL of the rebuild uses the same arithmetic.
inline constexpr std::int64_t kHourMicros = 3'600'000'000;
inline constexpr std::int64_t kDayMicros = 86'400'000'000;
inline std::int64_t FloorMicros(std::int64_t t, std::int64_t width) {
  return t - (((t % width) + width) % width);
}

class RollupWriter {
 public:
  RollupWriter();
  ~RollupWriter();
  RollupWriter(const RollupWriter&) = delete;
  RollupWriter& operator=(const RollupWriter&) = delete;

  // Folds one newly inserted event into the pending sums.
  void Add(const model::Event& event);
  // Writes the pending sums to the rollup tables on db (inside the caller's
  // open transaction) and clears them. On error the caller rolls back.
  core::Status Flush(sqlite3* db);
  // Drops pending sums (after a failed transaction).
  void Clear();
  // Finalizes the cached statements (before their connection closes).
  void ReleaseStatements();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tally::store::sqlite
