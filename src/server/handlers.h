// The HTTP API's handlers, one file per area, registered on a Router.
// Handlers never block an I/O thread on the database: ingest awaits the
// pipeline's commit callback; entity and SQL calls run on the blocking pool.
#pragma once

#include <boost/json/value.hpp>
#include <functional>

#include "core/clock.h"
#include "ingest/pipeline.h"
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
};

// {"columns": [...], "rows": [[...], ...]}; shared by /v1/sql and `tally sql --json`.
boost::json::value SqlResultToJson(const store::QueryResult& result);

void RegisterHealthRoutes(Router& router, Services& services);
void RegisterEventRoutes(Router& router, Services& services);
void RegisterEntityRoutes(Router& router, Services& services);
void RegisterSqlRoutes(Router& router, Services& services);

inline void RegisterAllRoutes(Router& router, Services& services) {
  RegisterHealthRoutes(router, services);
  RegisterEventRoutes(router, services);
  RegisterEntityRoutes(router, services);
  RegisterSqlRoutes(router, services);
}

}  // namespace tally::server
