// Read-scope analytics (docs/analytics.md):
//   GET /v1/kpis                 factory, agent, product and growth KPIs
//   GET /v1/pnl                  per-product P&L, shared cost, fully loaded, series
//   GET /v1/roi/products         per-product ROI and payback
//   GET /v1/roi/agents           per-agent ROI with task-hour attribution
//   GET /v1/overview             seed §8 overview numbers
//   GET /v1/agents/{id}/stats    one agent's KPIs, models, cost series
//   GET /v1/products/{id}/stats  one product's P&L, payback, KPIs, series
// Query: from, to (YYYY-MM-DD or RFC 3339), granularity (day, week, month,
// total), allocation (direct-cost, revenue-share, evenly), product, agent, tz
// (must name the store's rollup zone when given). Dates and days are business
// days of that zone. Every answer runs on the blocking pool (store reads).
#include "server/analytics_views.h"
#include "server/handlers.h"

namespace tally::server {
namespace {

using JsonFn =
    std::function<core::Result<boost::json::value>(Services&, const Call&, const AnalyticsQuery&)>;

Handler Blocking(Services& s, JsonFn fn) {
  return [&s, fn = std::move(fn)](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, fn, call = std::move(call), respond = std::move(respond)] {
      // Read per request: another node or `tally rollups rebuild` may move
      // the store to another zone while this one runs.
      auto calendar = StoreCalendar(s.store);
      if (!calendar) {
        respond(ErrorResponse(calendar.error()));
        return;
      }
      auto q = ParseAnalyticsQuery(call->request.query, s.clock.Now(), *calendar);
      if (!q) {
        respond(ErrorResponse(q.error()));
        return;
      }
      auto body = fn(s, *call, *q);
      respond(body ? JsonResponse(200, *body) : ErrorResponse(body.error()));
    });
  };
}

}  // namespace

void RegisterAnalyticsRoutes(Router& router, Services& s) {
  router.Add("GET", "/v1/kpis", store::kScopeRead,
             Blocking(s, [](Services& s, const Call&, const AnalyticsQuery& q) {
               return KpisJson(s.store, q);
             }));
  router.Add("GET", "/v1/pnl", store::kScopeRead,
             Blocking(s, [](Services& s, const Call&, const AnalyticsQuery& q) {
               return PnlJson(s.store, q);
             }));
  router.Add("GET", "/v1/roi/products", store::kScopeRead,
             Blocking(s, [](Services& s, const Call&, const AnalyticsQuery& q) {
               return ProductRoiJson(s.store, q);
             }));
  router.Add("GET", "/v1/roi/agents", store::kScopeRead,
             Blocking(s, [](Services& s, const Call&, const AnalyticsQuery& q) {
               return AgentRoiJson(s.store, q);
             }));
  router.Add("GET", "/v1/overview", store::kScopeRead,
             Blocking(s, [](Services& s, const Call&, const AnalyticsQuery& q) {
               return OverviewJson(s.store, s.clock.Now(), q.calendar);
             }));
  router.Add("GET", "/v1/agents/{id}/stats", store::kScopeRead,
             Blocking(s, [](Services& s, const Call& c, const AnalyticsQuery& q) {
               return AgentStatsJson(s.store, q, c.params.at("id"));
             }));
  router.Add("GET", "/v1/products/{id}/stats", store::kScopeRead,
             Blocking(s, [](Services& s, const Call& c, const AnalyticsQuery& q) {
               return ProductStatsJson(s.store, q, c.params.at("id"));
             }));
}

}  // namespace tally::server
