// Validation: JSON in, typed events and entities out, or every problem listed.
//
// Guarantees:
//  - A batch is all-or-nothing: ParseEvents returns events only when every
//    item is valid; otherwise one invalid_argument Error whose details name
//    each problem by batch index, field and offending value.
//  - Closed vocabularies (llm_calls.status, task_events.status,
//    revenue_events.event_type) reject unknown values; open ones (task_type,
//    cost_type, channel, metric, product type, role) take any lowercase slug.
//  - Rejected: missing required fields, wrong JSON types, unknown fields,
//    negative token counts, NaN/infinite numbers, money with more than 6
//    decimals (2 for revenue and growth values per the seed's NUMERIC(10,2),
//    4 for task and infra costs), timestamps without a zone.
//  - Money may be a JSON number or a decimal string (exact either way).
//    Times may be RFC 3339 strings with a zone or epoch seconds/milliseconds.
//  - event_id: the sender's (1..128 printable ASCII), else "h:" + 32 hex of the
//    SHA-256 of the item's JSON text, so an identical retry is a duplicate.
//  - An llm_call without cost_usd is priced from the PriceTable; an unknown
//    model without cost is a problem on field "cost_usd" naming the model.
#pragma once

#include <boost/json/value.hpp>
#include <span>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/entities.h"
#include "model/event.h"
#include "model/price_table.h"

namespace tally::model {

core::Result<std::vector<Event>> ParseEvents(EventKind kind, std::span<const boost::json::value> items,
                                             const PriceTable& prices);

// Entities. For an update pass the stored entity as `existing`: fields absent
// from the JSON keep their stored values. id is taken from `path_id` when
// given (PUT /v1/products/{id}); a new product or channel without id gets a
// random UUID; created_at is `now` for new entities.
core::Result<Product> ParseProduct(const boost::json::value& json, const Product* existing,
                                   const std::string& path_id, core::Timestamp now);
core::Result<Agent> ParseAgent(const boost::json::value& json, const Agent* existing,
                               const std::string& path_id, core::Timestamp now);
core::Result<RevenueChannel> ParseChannel(const boost::json::value& json, const RevenueChannel* existing,
                                          const std::string& path_id, core::Timestamp now);

// JSON renderings for the API (money as decimal strings, times RFC 3339).
boost::json::value ToJson(const Product& p);
boost::json::value ToJson(const Agent& a);
boost::json::value ToJson(const RevenueChannel& c);
boost::json::value ToJson(const Event& e);

}  // namespace tally::model
