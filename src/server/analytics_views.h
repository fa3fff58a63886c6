// The read-scope analytics answers as JSON, shared by the HTTP handlers
// (handlers_analytics.cc) and the CLI (`tally kpi`, `tally pnl`, `tally roi`):
// each reads rollups and entities from the Store, then calls the pure
// functions of src/analytics.
//
// Periods are [from, to) instants; dates (YYYY-MM-DD), "today", weeks and
// months are those of the business time zone the store's rollups are cut in
// (Store::RollupTimeZone, set from [business] time_zone by `tally serve`).
// A `tz` naming another zone is refused, since day rollups of one zone cannot
// be re-cut into another's days. Money is
// exact decimal USD text ("12.50"); rates are fractions; ROI is percent.
// Blocking (store reads): call off the I/O threads.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <string>

#include "analytics/kpis.h"
#include "analytics/pnl.h"
#include "core/business_calendar.h"
#include "core/result.h"
#include "store/store.h"

namespace tally::server {

struct AnalyticsQuery {
  analytics::Period period;
  std::string granularity = "day";  // day, week, month, total: P&L and stats series
  analytics::AllocationRule allocation = analytics::AllocationRule::kDirectCost;
  std::string product;  // id or name; empty: all
  std::string agent;    // empty: all
  core::BusinessCalendar calendar = core::BusinessCalendar::Utc();  // the store's rollup zone
};

// The calendar of the zone the store's rollups are cut in.
core::Result<core::BusinessCalendar> StoreCalendar(store::Store& store);

// From query parameters from, to (RFC 3339 or YYYY-MM-DD), granularity,
// allocation, product, agent, tz, in `calendar`'s zone. Default period: the
// 30 business days ending with today. invalid_argument names the parameter
// and value.
core::Result<AnalyticsQuery> ParseAnalyticsQuery(const std::map<std::string, std::string>& params,
                                                 core::Timestamp now,
                                                 const core::BusinessCalendar& calendar);

core::Result<boost::json::value> KpisJson(store::Store& store, const AnalyticsQuery& q);
core::Result<boost::json::value> PnlJson(store::Store& store, const AnalyticsQuery& q);
core::Result<boost::json::value> ProductRoiJson(store::Store& store, const AnalyticsQuery& q);
core::Result<boost::json::value> AgentRoiJson(store::Store& store, const AnalyticsQuery& q);
// not_found for an unknown agent / product (products by id or name).
core::Result<boost::json::value> AgentStatsJson(store::Store& store, const AnalyticsQuery& q,
                                                const std::string& agent_id);
core::Result<boost::json::value> ProductStatsJson(store::Store& store, const AnalyticsQuery& q,
                                                  const std::string& product);
// Seed §8 factory overview at `now`; today and month to date in `calendar`.
core::Result<boost::json::value> OverviewJson(store::Store& store, core::Timestamp now,
                                              const core::BusinessCalendar& calendar);

// "12.50" from micro-USD.
std::string UsdText(std::int64_t micros);

}  // namespace tally::server
