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

#include <memory>
#include <string_view>

#include "core/business_calendar.h"
#include "core/result.h"
#include "model/event.h"

namespace tally::store::sqlite {

class RollupWriter {
 public:
  RollupWriter();
  ~RollupWriter();
  RollupWriter(const RollupWriter&) = delete;
  RollupWriter& operator=(const RollupWriter&) = delete;

  // The business calendar whose local hours and days cut the buckets (UTC
  // until set). Set it between transactions, or inside one before any Add.
  void SetCalendar(core::BusinessCalendar calendar);
  const core::BusinessCalendar& calendar() const;
  // Registers tally_hour(micros) and tally_day(micros) on db, cutting as this
  // writer's calendar does, for the rebuild and migration SQL. The writer must
  // outlive the connection's use of them.
  core::Status RegisterBucketFunctions(sqlite3* db) const;

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
