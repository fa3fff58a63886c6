// /healthz (liveness, public), /readyz (the store answers and ingest takes
// batches), /metrics (Prometheus text format).
#include <boost/json/object.hpp>

#include "server/handlers.h"

namespace tally::server {

void RegisterHealthRoutes(Router& router, Services& s) {
  router.Add("GET", "/healthz", kPublic, [](std::shared_ptr<Call>, Responder respond) {
    respond(JsonResponse(200, boost::json::object{{"status", "ok"}}));
  });

  router.Add("GET", "/readyz", store::kScopeRead, [&s](std::shared_ptr<Call>, Responder respond) {
    s.run_blocking([&s, respond = std::move(respond)] {
      auto probe = s.store.Query("SELECT 1", 1);
      if (!probe) {
        respond(ErrorResponse(core::Error::Unavailable("store not ready: " + probe.error().message())));
        return;
      }
      // Redis down for the live counters: still ready (checks follow
      // live.redis_down_policy), but shown.
      bool degraded = s.live != nullptr && s.live->degraded();
      respond(JsonResponse(200, boost::json::object{{"status", degraded ? "degraded" : "ready"},
                                                    {"live_degraded", degraded},
                                                    {"queued_events", s.pipeline.queued_events()}}));
    });
  });

  router.Add("GET", "/metrics", store::kScopeRead, [&s](std::shared_ptr<Call>, Responder respond) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = s.metrics.Render();
    respond(std::move(r));
  });
}

}  // namespace tally::server
