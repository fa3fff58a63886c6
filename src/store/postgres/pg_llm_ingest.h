// The llm_calls fast path of PostgresStore::Append (pg_append.cc). LLM calls
// are the bulk of tally's traffic, so their new rows skip staging: they are
// COPYed in binary straight into llm_calls, and their rollup contribution is
// folded in C++ per (UTC second, agent, model, provider) into a few rows of
// the temp table acc_llm_fold, which the llm_calls rollup SQL (pg_kinds.cc)
// cuts into hours and days with tally_hour / tally_day.
//
// The fold grain is one UTC second, not a bucket: every time-zone offset is a
// whole number of seconds, so the events of one UTC second always share
// their local hour and day, whatever the business time zone. Bucketing stays
// in SQL, in the zone's bucket functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "model/event.h"
#include "store/postgres/pg_copy_binary.h"

namespace tally::store::pg {

// The COPY statement WriteLlmRaw's rows are for.
extern const std::string_view kLlmRawCopySql;
// The columns of acc_llm_fold (one row per folded group).
extern const std::string_view kLlmFoldColumns;

// Appends the call's llm_calls row. invalid_argument naming the event and the
// field when a value cannot be stored (task_id not a UUID, a count beyond
// INTEGER); nothing is written then.
core::Status WriteLlmRaw(const model::LlmCall& e, BinaryCopy* out);

class LlmFold {
 public:
  void Add(const model::LlmCall& e);
  bool empty() const { return groups_.empty(); }
  // The groups as COPY text rows for acc_llm_fold.
  std::string CopyText() const;

 private:
  struct Sums {
    std::int64_t n = 0, input = 0, output = 0, cached = 0, cost = 0, latency = 0, errors = 0;
  };
  // Key: second (8 bytes) + agent_id \0 model \0 provider.
  std::unordered_map<std::string, Sums> groups_;
};

}  // namespace tally::store::pg
