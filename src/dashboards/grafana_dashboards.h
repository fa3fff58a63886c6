// Grafana dashboards for tally, generated as JSON (seed §8: dashboards made
// programmatically, stored as JSON in git).
//
// The hierarchy of seed §8: Factory Overview, Financial, Agent Performance,
// Growth, Ops Health, and one dashboard per product from a template. Panels
// are rawSql over a PostgreSQL/TimescaleDB datasource holding the seed's
// tables (money NUMERIC in USD, time TIMESTAMPTZ) and tally's views
// (product_pnl_daily). Every dashboard and panel has a stable uid/id derived
// from what it shows, and generation is deterministic, so a re-export diffs
// cleanly.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/entities.h"

namespace tally::dashboards {

struct DashboardOptions {
  std::string datasource_uid = "tally-pg";  // the PostgreSQL datasource the panels query
  std::string folder_uid = "tally";
  // [business] time_zone: the dashboards' time axis, and where "today" and
  // "month to date" panels start (date_trunc in that zone).
  std::string time_zone = "UTC";
};

struct GeneratedDashboard {
  std::string uid;    // "tally-overview", "tally-product-3f2a9c1e"
  std::string title;
  boost::json::value json;  // the dashboard model (what Grafana's API calls "dashboard")
};

// The fixed hierarchy plus one dashboard per product, in a stable order.
std::vector<GeneratedDashboard> BuildDashboards(const std::vector<model::Product>& products,
                                                const DashboardOptions& options = {});

// The uid of a product's dashboard (stable for the product's id).
std::string ProductDashboardUid(const model::Product& product);

// Writes <dir>/<uid>.json for each dashboard, pretty-printed with a trailing
// newline. Creates dir. Files of dashboards no longer generated are left.
core::Status ExportDashboards(const std::vector<GeneratedDashboard>& dashboards, const std::string& dir);

// Indented JSON text (2 spaces), keys in insertion order: stable diffs.
std::string PrettyJson(const boost::json::value& v);

}  // namespace tally::dashboards
