#include "ingest/bus/bus_entry.h"

#include <fmt/format.h>

#include "core/json.h"
#include "model/validate.h"

namespace tally::ingest::bus {

core::Result<model::Event> ParseBusEntry(const BusEntry& entry, std::string_view stream,
                                         const model::PriceTable& prices) {
  std::string_view kind_name = "task_events";
  const std::string* event_text = nullptr;
  for (const auto& [name, value] : entry.fields) {
    if (name == "kind") {
      kind_name = value;
    } else if (name == "event") {
      event_text = &value;
    }
  }
  auto kind = model::ParseTableName(kind_name);
  if (!kind) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("entry {}: field 'kind': {}", entry.id, kind.error().message())));
  }
  if (event_text == nullptr) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "entry {}: missing field 'event' (the event as a JSON object)", entry.id)));
  }
  auto parsed = core::ParseJson(*event_text);
  if (!parsed || !parsed->is_object()) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "entry {}: field 'event' is not a JSON object: {}", entry.id,
        parsed ? std::string(core::JsonTypeName(*parsed)) : parsed.error().message())));
  }
  boost::json::object& obj = parsed->as_object();
  if (!obj.contains("event_id")) obj["event_id"] = fmt::format("redis:{}:{}", stream, entry.id);
  auto events = model::ParseEvents(*kind, std::span<const boost::json::value>(&*parsed, 1), prices);
  if (!events) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("entry {}: {}", entry.id, events.error().ToString())));
  }
  return std::move(events->front());
}

}  // namespace tally::ingest::bus
