// One Redis Streams entry of the agent event bus, turned into an event.
//
// Entry format (docs/integrations/redis-streams.md):
//   kind  = the event table ("task_events", "llm_calls", ..., "ops_events");
//           absent means "task_events", the bus's main traffic
//   event = the event as one JSON object, exactly as POST /v1/events/{kind}
//           takes it
// An event without event_id gets "redis:<stream>:<entry id>", so each entry
// is stored once however often it is delivered (a reclaimed entry, a restart
// before XACK). Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "model/event.h"
#include "model/price_table.h"

namespace tally::ingest::bus {

struct BusEntry {
  std::string id;  // "1700000000000-0"
  std::vector<std::pair<std::string, std::string>> fields;
  bool deleted = false;  // pending, but its data was trimmed from the stream
};

// invalid_argument naming what is wrong (unknown kind, missing or non-JSON
// `event`, the validation problems of the event) — the dead-letter reason.
core::Result<model::Event> ParseBusEntry(const BusEntry& entry, std::string_view stream,
                                         const model::PriceTable& prices);

}  // namespace tally::ingest::bus
