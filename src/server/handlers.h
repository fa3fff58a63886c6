// The HTTP API's handlers, one file per area, registered on a Router.
// Handlers never block an I/O thread on the database: ingest awaits the
// pipeline's commit callback; entity and SQL calls run on the blocking pool.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>

#include "core/clock.h"
#include "ingest/pipeline.h"
#include "ingest/sources/source_registry.h"
#include "live/accumulators.h"
#include "live/budget_enforcer.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/router.h"
#include "store/store.h"

namespace tally::server {

struct Services {
  store::Store& store;
  ingest::Pipeline& pipeline;
  const model::PriceTable& prices;
  Metrics& metrics;
  const core::Clock& clock;
  // Runs a blocking task (a store call) off the I/O threads.
  std::function<void(std::function<void()>)> run_blocking;
  // Live counters and budgets (src/live); null: their routes are not served.
  live::Accumulators* live = nullptr;
  live::BudgetEnforcer* budget = nullptr;
  // Webhook and callback sources (src/ingest/sources); null: /webhooks/*,
  // /v1/integrations/*, /v1/parked and /v1/mappings are not served.
  const ingest::SourceRegistry* sources = nullptr;
  // Called (on the blocking pool) after a product is created, e.g. to give it
  // its Grafana dashboard. Empty: nothing happens.
  std::function<void(const model::Product&)> on_product_created = nullptr;
  // This node's alert evaluator for GET /v1/alerts/status ({"enabled",
  // "node_id", "leader", "evaluations"}). Empty: alerts are off here.
  std::function<boost::json::object()> alerts_status = nullptr;
};

// {"columns": [...], "rows": [[...], ...]}; shared by /v1/sql and `tally sql --json`.
boost::json::value SqlResultToJson(const store::QueryResult& result);
// One alert as the API shows it (GET /v1/alerts, /v1/overview).
boost::json::object AlertJson(const store::AlertRecord& alert);

void RegisterHealthRoutes(Router& router, Services& services);
void RegisterEventRoutes(Router& router, Services& services);
void RegisterEntityRoutes(Router& router, Services& services);
void RegisterSqlRoutes(Router& router, Services& services);
// /v1/kpis, /v1/pnl, /v1/roi/*, /v1/overview, /v1/{agents,products}/{id}/stats.
void RegisterAnalyticsRoutes(Router& router, Services& services);
// /v1/budget/*, /v1/live, pause/resume of agents and the factory.
void RegisterBudgetRoutes(Router& router, Services& services);
// POST /webhooks/stripe, /v1/parked, /v1/mappings (handlers_webhooks.cc).
void RegisterWebhookRoutes(Router& router, Services& services);
// GET /v1/alerts, /v1/alerts/status, POST /v1/alerts/{id}/ack|silence.
void RegisterAlertRoutes(Router& router, Services& services);

inline void RegisterAllRoutes(Router& router, Services& services) {
  RegisterHealthRoutes(router, services);
  RegisterEventRoutes(router, services);
  RegisterEntityRoutes(router, services);
  RegisterSqlRoutes(router, services);
  RegisterAnalyticsRoutes(router, services);
  RegisterBudgetRoutes(router, services);
  RegisterWebhookRoutes(router, services);
  RegisterAlertRoutes(router, services);
}

}  // namespace tally::server
