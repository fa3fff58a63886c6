// The event tables of the PostgreSQL store, one KindSpec per model::EventKind:
// the raw table's DDL (seed §3.2 types: TIMESTAMPTZ, UUID, NUMERIC USD, JSONB),
// its staging table (integer micros and plain text, what C++ writes with
// COPY), the conversion from staging to raw, and the SQL that folds newly
// stored rows into the kind's rollups. Adding an event kind = adding a spec
// here (and its rollup tables in pg_schema.cc).
//
// Idempotency: a partitioned table cannot have a UNIQUE index without its
// partition key, so each kind has a side table <table>_ids (event_id PRIMARY
// KEY, time) that decides "new or duplicate". Its ids follow the raw table's
// retention (pg_maintenance.h); an event older than the ids kept is counted
// as a duplicate at append, so a re-send after its raw partition was dropped
// is still never stored twice.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "model/event.h"

namespace tally::store::pg {

struct KindSpec {
  model::EventKind kind;
  std::string_view table;          // "llm_calls"
  std::string_view raw_columns;    // raw table column DDL (without event_id)
  std::string_view raw_indexes;    // CREATE INDEX statements ({t} = table)
  std::string_view stage_columns;  // staging columns (without seq, event_id)
  std::string_view insert_columns; // raw columns filled from staging
  std::string_view insert_select;  // expressions over staging row `k`, same order
  std::string_view segment_by;     // TimescaleDB compression segment column
  int retention_days;              // 0 = keep forever (seed §12)
  // Appends the event's staging row (without the trailing newline) in COPY
  // text format: seq, stage columns..., event_id.
  void (*write)(const model::Event& e, int seq, std::string* out);
  // Statements folding acc_<table> (this call's newly stored rows, staging
  // form) into the rollups, run in the append transaction. llm_calls'
  // read acc_llm_fold instead (its rows folded in C++, pg_llm_ingest.h).
  std::span<const std::string_view> rollup_sql;
};

std::span<const KindSpec> Kinds();
const KindSpec& SpecOf(model::EventKind kind);

// Task rollups depend on llm_calls and task_events together; run after both
// kinds' acc_ tables are filled (pg_append.cc).
std::span<const std::string_view> TaskRollupSql();

}  // namespace tally::store::pg
