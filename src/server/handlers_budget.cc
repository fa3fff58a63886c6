// Budgets, live counters and kill switches (src/live over HTTP).
//   POST /v1/budget/check      {agent_id, estimated_cost_usd | model+input_tokens+max_tokens, reserve}  ingest
//   POST /v1/budget/release    {reservation_id}: the call was not made                                   ingest
//   GET  /v1/budget/{agent_id} the agent's budget status (never reserves, never pauses)                  read
//   GET  /v1/live              every live counter                                                        read
//   POST /v1/live/rebuild      recompute the counters from the store                                     admin
//   POST /v1/agents/{id}/pause|resume, POST /v1/factory/pause|resume {reason}                           admin
//   GET  /v1/factory           the factory switch                                                        read
// Decisions and /v1/live carry "degraded": true while Redis is down
// (live.redis_down_policy, src/live/failover_accumulators.h).
// The check runs on the I/O thread: it is a mutex and a few hash lookups
// (memory backend); only a budget-cache miss reads the store, once per agent
// per agent_cache_ttl. With Redis it is one EVALSHA round trip (pooled
// connections), blocking the I/O thread for that long. Pause, resume and rebuild write or scan the store and
// run on the blocking pool.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "core/json.h"
#include "server/handlers.h"

namespace tally::server {
namespace {

namespace json = boost::json;

json::value Usd(core::Money m) { return json::value(m.ToString()); }
json::value Usd(const std::optional<core::Money>& m) { return m ? Usd(*m) : json::value(nullptr); }
json::value UsdMicros(std::int64_t micros) { return Usd(core::Money::FromMicros(micros)); }

core::Error BadField(std::string_view field, const json::value& v, std::string_view want) {
  return core::Error(core::ErrorCode::kInvalidArgument, fmt::format("{} must be {}", field, want),
                     {core::ErrorDetail{-1, std::string(field), core::JsonExcerpt(v),
                                        fmt::format("expected {}, got {}", want, core::JsonTypeName(v))}});
}

core::Result<std::int64_t> ReadCount(std::string_view field, const json::value& v) {
  if (v.is_int64() && v.as_int64() >= 0) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  return std::unexpected(BadField(field, v, "a non-negative integer"));
}

core::Result<live::CheckRequest> ParseCheck(std::string_view body) {
  json::value doc = TALLY_TRY(core::ParseJson(body));
  if (!doc.is_object()) return std::unexpected(BadField("body", doc, "a JSON object"));
  live::CheckRequest r;
  for (const auto& [key, v] : doc.as_object()) {
    if (v.is_null()) continue;
    if (key == "agent_id") {
      if (!v.is_string()) return std::unexpected(BadField(key, v, "a string"));
      r.agent_id = std::string(v.as_string());
    } else if (key == "estimated_cost_usd") {
      core::Result<core::Money> m = v.is_string()   ? core::Money::Parse(v.as_string())
                                    : v.is_number() ? core::Money::FromDouble(v.to_number<double>())
                                                    : std::unexpected(BadField(key, v, "a number"));
      if (!m) return std::unexpected(core::Error::InvalidArgument(
                  fmt::format("estimated_cost_usd {}: {}", core::JsonExcerpt(v), m.error().message())));
      r.estimated_cost = *m;
    } else if (key == "model") {
      if (!v.is_string()) return std::unexpected(BadField(key, v, "a string"));
      r.model = std::string(v.as_string());
    } else if (key == "input_tokens") {
      r.input_tokens = TALLY_TRY(ReadCount(key, v));
    } else if (key == "max_tokens") {
      r.max_tokens = TALLY_TRY(ReadCount(key, v));
    } else if (key == "reserve") {
      if (!v.is_bool()) return std::unexpected(BadField(key, v, "true or false"));
      r.reserve = v.as_bool();
    } else {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "unknown field '{}' (expected agent_id, estimated_cost_usd, model, input_tokens, max_tokens, reserve)",
          std::string_view(key))));
    }
  }
  return r;
}

json::object DecisionJson(const std::string& agent_id, const live::Decision& d) {
  json::object o;
  o["agent_id"] = agent_id;
  o["allowed"] = d.allowed;
  o["reason"] = d.allowed ? json::value(nullptr) : json::value(live::DenyReasonName(d.reason));
  o["estimate"] = Usd(d.estimate);
  o["spent"] = Usd(d.spent);
  o["reserved"] = Usd(d.reserved);
  o["limit"] = Usd(d.limit);
  o["remaining"] = Usd(d.remaining);
  o["warning"] = d.warning;
  o["velocity_per_min"] = Usd(d.velocity_per_min);
  o["reservation_id"] = d.reservation_id.empty() ? json::value(nullptr) : json::value(d.reservation_id);
  o["degraded"] = d.degraded;
  return o;
}

json::object SnapshotJson(const live::LiveSnapshot& s, const live::KillSwitchState& factory) {
  json::array agents;
  for (const auto& a : s.agents) {
    agents.push_back(json::object{{"agent_id", a.agent_id},
                                  {"spend_today", UsdMicros(a.spend_today)},
                                  {"spend_1h", UsdMicros(a.spend_1h)},
                                  {"errors_5m", a.errors_5m},
                                  {"velocity_per_min", UsdMicros(a.velocity_per_min)},
                                  {"reserved", UsdMicros(a.reserved)},
                                  {"reservations", a.reservations}});
  }
  json::array products;
  for (const auto& p : s.products) {
    products.push_back(json::object{{"product_id", p.product_id}, {"revenue_today", UsdMicros(p.revenue_today)}});
  }
  return json::object{{"at", core::FormatRfc3339(s.at)},
                      {"day_start", core::FormatRfc3339(s.day_start)},
                      {"factory_paused", factory.paused},
                      {"degraded", s.degraded},
                      {"revenue_mtd", UsdMicros(s.revenue_mtd)},
                      {"agents", std::move(agents)},
                      {"products", std::move(products)}};
}

json::object FactoryJson(const live::KillSwitchState& f) {
  return json::object{{"paused", f.paused},
                      {"reason", f.reason},
                      {"actor", f.actor},
                      {"at", f.at ? json::value(core::FormatRfc3339(*f.at)) : json::value(nullptr)}};
}

// {"reason": "..."} or an empty body.
core::Result<std::string> ParseReason(std::string_view body) {
  if (body.empty()) return std::string();
  json::value doc = TALLY_TRY(core::ParseJson(body));
  if (!doc.is_object()) return std::unexpected(BadField("body", doc, "a JSON object"));
  const json::value* reason = doc.as_object().if_contains("reason");
  if (reason == nullptr || reason->is_null()) return std::string();
  if (!reason->is_string()) return std::unexpected(BadField("reason", *reason, "a string"));
  return std::string(reason->as_string());
}

void RegisterSwitch(Router& router, Services& s, std::string path, bool paused, bool factory) {
  router.Add("POST", std::move(path), store::kScopeAdmin,
             [&s, paused, factory](std::shared_ptr<Call> call, Responder respond) {
               s.run_blocking([&s, paused, factory, call, respond = std::move(respond)] {
                 auto reason = ParseReason(call->request.body);
                 if (!reason) return respond(ErrorResponse(reason.error()));
                 std::string target = factory ? std::string(store::kFactoryTarget) : call->params.at("id");
                 std::string actor = call->principal.key_id.empty() ? "api" : call->principal.key_id;
                 if (auto st = s.budget->SetPaused(target, paused, *reason, actor); !st) {
                   return respond(ErrorResponse(st.error()));
                 }
                 respond(JsonResponse(200, json::object{{"target", target}, {"paused", paused},
                                                        {"reason", *reason}, {"actor", actor}}));
               });
             });
}

}  // namespace

void RegisterBudgetRoutes(Router& router, Services& s) {
  if (s.budget == nullptr || s.live == nullptr) return;
  router.Add("POST", "/v1/budget/check", store::kScopeIngest, [&s](std::shared_ptr<Call> call, Responder respond) {
    auto req = ParseCheck(call->request.body);
    if (!req) return respond(ErrorResponse(req.error()));
    auto d = s.budget->Check(*req);
    if (!d) return respond(ErrorResponse(d.error()));
    respond(JsonResponse(200, DecisionJson(req->agent_id, *d)));
  });
  router.Add("POST", "/v1/budget/release", store::kScopeIngest, [&s](std::shared_ptr<Call> call, Responder respond) {
    auto doc = core::ParseJson(call->request.body);
    if (!doc) return respond(ErrorResponse(doc.error()));
    const json::value* id = doc->is_object() ? doc->as_object().if_contains("reservation_id") : nullptr;
    if (id == nullptr || !id->is_string()) {
      return respond(ErrorResponse(core::Error::InvalidArgument("reservation_id (a string) is required")));
    }
    if (auto st = s.live->Release(std::string(id->as_string())); !st) return respond(ErrorResponse(st.error()));
    respond(JsonResponse(200, json::object{{"released", std::string(id->as_string())}}));
  });
  router.Add("GET", "/v1/budget/{agent_id}", store::kScopeRead, [&s](std::shared_ptr<Call> call, Responder respond) {
    live::CheckRequest req;
    req.agent_id = call->params.at("agent_id");
    req.estimated_cost = core::Money();
    req.observe_only = true;
    auto d = s.budget->Check(req);
    if (!d) return respond(ErrorResponse(d.error()));
    json::object o = DecisionJson(req.agent_id, *d);
    o.erase("estimate");
    o.erase("reservation_id");
    respond(JsonResponse(200, o));
  });
  router.Add("GET", "/v1/live", store::kScopeRead, [&s](std::shared_ptr<Call>, Responder respond) {
    auto snap = s.live->Snapshot();
    if (!snap) return respond(ErrorResponse(snap.error()));
    respond(JsonResponse(200, SnapshotJson(*snap, s.budget->Factory())));
  });
  router.Add("POST", "/v1/live/rebuild", store::kScopeAdmin, [&s](std::shared_ptr<Call>, Responder respond) {
    s.run_blocking([&s, respond = std::move(respond)] {
      if (auto st = s.live->Rebuild(s.store); !st) return respond(ErrorResponse(st.error()));
      auto snap = s.live->Snapshot();
      if (!snap) return respond(ErrorResponse(snap.error()));
      respond(JsonResponse(200, SnapshotJson(*snap, s.budget->Factory())));
    });
  });
  router.Add("GET", "/v1/factory", store::kScopeRead, [&s](std::shared_ptr<Call>, Responder respond) {
    respond(JsonResponse(200, FactoryJson(s.budget->Factory())));
  });
  RegisterSwitch(router, s, "/v1/agents/{id}/pause", true, false);
  RegisterSwitch(router, s, "/v1/agents/{id}/resume", false, false);
  RegisterSwitch(router, s, "/v1/factory/pause", true, true);
  RegisterSwitch(router, s, "/v1/factory/resume", false, true);
}

}  // namespace tally::server
