// Alerts over HTTP (src/alerts keeps them; docs/alerts.md):
//   GET  /v1/alerts?state=firing|resolved&rule=R&limit=N   newest first       read
//   GET  /v1/alerts/status      this node's evaluator: leader?, evaluations   read
//   POST /v1/alerts/{id}/ack                                                    admin
//   POST /v1/alerts/{id}/silence {"until": RFC 3339} or {"minutes": N}          admin
// Every call reads or writes the store, so it runs on the blocking pool.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <fmt/format.h>

#include "core/json.h"
#include "server/handlers.h"

namespace tally::server {
namespace {

namespace json = boost::json;

json::value OptTime(const std::optional<core::Timestamp>& t) {
  return t ? json::value(core::FormatRfc3339(*t)) : json::value(nullptr);
}

core::Result<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("alert id '{}' is not a positive integer", text)));
  }
  return id;
}

// {"until": "2026-03-10T18:00:00Z"} or {"minutes": 90}.
core::Result<core::Timestamp> ParseUntil(std::string_view body, core::Timestamp now) {
  json::value doc = TALLY_TRY(core::ParseJson(body));
  if (!doc.is_object()) return std::unexpected(core::Error::InvalidArgument("body must be a JSON object"));
  const auto& o = doc.as_object();
  if (const json::value* until = o.if_contains("until"); until != nullptr) {
    if (!until->is_string()) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("until must be an RFC 3339 time, got {}", core::JsonExcerpt(*until))));
    }
    auto t = core::ParseRfc3339(until->as_string());
    if (!t) return std::unexpected(core::Error::InvalidArgument(fmt::format("until: {}", t.error().message())));
    return *t;
  }
  if (const json::value* minutes = o.if_contains("minutes"); minutes != nullptr) {
    if (!minutes->is_int64() || minutes->as_int64() <= 0) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("minutes must be a positive integer, got {}", core::JsonExcerpt(*minutes))));
    }
    return now + std::chrono::minutes(minutes->as_int64());
  }
  return std::unexpected(core::Error::InvalidArgument("silence needs \"until\" (RFC 3339) or \"minutes\""));
}

std::string Actor(const Call& call) {
  return call.principal.key_id.empty() ? "api" : call.principal.key_id;
}

}  // namespace

json::object AlertJson(const store::AlertRecord& a) {
  boost::system::error_code ec;
  json::value details = json::parse(a.details, ec);
  if (ec) details = json::object{};
  return json::object{{"id", a.id},
                      {"rule", a.rule},
                      {"subject", a.subject},
                      {"severity", a.severity},
                      {"state", a.state},
                      {"message", a.message},
                      {"details", std::move(details)},
                      {"fired_at", core::FormatRfc3339(a.fired_at)},
                      {"last_seen_at", core::FormatRfc3339(a.last_seen_at)},
                      {"resolved_at", OptTime(a.resolved_at)},
                      {"acked_at", OptTime(a.acked_at)},
                      {"acked_by", a.acked_by.empty() ? json::value(nullptr) : json::value(a.acked_by)},
                      {"silenced_until", OptTime(a.silenced_until)}};
}

void RegisterAlertRoutes(Router& router, Services& s) {
  router.Add("GET", "/v1/alerts", store::kScopeRead, [&s](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, call, respond = std::move(respond)] {
      store::AlertFilter filter;
      const auto& q = call->request.query;
      if (auto it = q.find("state"); it != q.end()) filter.state = it->second;
      if (auto it = q.find("rule"); it != q.end()) filter.rule = it->second;
      if (auto it = q.find("limit"); it != q.end()) {
        auto n = ParseId(it->second);
        if (!n) return respond(ErrorResponse(core::Error::InvalidArgument(
                    fmt::format("limit '{}' is not a positive integer", it->second))));
        filter.limit = std::min<std::int64_t>(*n, 10'000);
      }
      auto alerts = s.store.ListAlerts(filter);
      if (!alerts) return respond(ErrorResponse(alerts.error()));
      json::array out;
      for (const auto& a : *alerts) out.push_back(AlertJson(a));
      respond(JsonResponse(200, json::object{{"alerts", std::move(out)}}));
    });
  });
  router.Add("GET", "/v1/alerts/status", store::kScopeRead, [&s](std::shared_ptr<Call>, Responder respond) {
    json::object status = s.alerts_status ? s.alerts_status()
                                          : json::object{{"enabled", false}, {"leader", false}, {"evaluations", 0}};
    respond(JsonResponse(200, status));
  });
  router.Add("POST", "/v1/alerts/{id}/ack", store::kScopeAdmin, [&s](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, call, respond = std::move(respond)] {
      auto id = ParseId(call->params.at("id"));
      if (!id) return respond(ErrorResponse(id.error()));
      if (auto st = s.store.AckAlert(*id, Actor(*call), s.clock.Now()); !st) return respond(ErrorResponse(st.error()));
      auto a = s.store.GetAlert(*id);
      if (!a) return respond(ErrorResponse(a.error()));
      respond(JsonResponse(200, AlertJson(*a)));
    });
  });
  router.Add("POST", "/v1/alerts/{id}/silence", store::kScopeAdmin,
             [&s](std::shared_ptr<Call> call, Responder respond) {
               s.run_blocking([&s, call, respond = std::move(respond)] {
                 auto id = ParseId(call->params.at("id"));
                 if (!id) return respond(ErrorResponse(id.error()));
                 core::Timestamp now = s.clock.Now();
                 auto until = ParseUntil(call->request.body, now);
                 if (!until) return respond(ErrorResponse(until.error()));
                 if (auto st = s.store.SilenceAlert(*id, *until, Actor(*call), now); !st) {
                   return respond(ErrorResponse(st.error()));
                 }
                 auto a = s.store.GetAlert(*id);
                 if (!a) return respond(ErrorResponse(a.error()));
                 respond(JsonResponse(200, AlertJson(*a)));
               });
             });
}

}  // namespace tally::server
