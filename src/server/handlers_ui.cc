#include "server/handlers_ui.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "core/ids.h"
#include "core/json.h"
#include "server/web_assets.h"

namespace tally::server {
namespace {

const WebAsset* FindAsset(std::string_view path) {
  for (const WebAsset& a : WebAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

HttpResponse AssetResponse(const WebAsset& a) {
  HttpResponse r;
  r.content_type = std::string(a.content_type);
  r.body = std::string(a.data);
  // The page may only talk to this server and run its own scripts.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

boost::json::array ScopeList(unsigned scopes) {
  boost::json::array out;
  if (scopes & store::kScopeAdmin) out.emplace_back("admin");
  if (scopes & (store::kScopeRead | store::kScopeAdmin)) out.emplace_back("read");
  if (scopes & (store::kScopeIngest | store::kScopeAdmin)) out.emplace_back("ingest");
  return out;
}

}  // namespace

void RegisterUiRoutes(Router& router, Authenticator& auth, SessionStore& sessions) {
  router.SetSessions(&sessions);
  router.Add("GET", "/", kPublic, [](std::shared_ptr<Call>, Responder respond) {
    respond(AssetResponse(*FindAsset("/index.html")));
  });
  router.Add("GET", "/assets/{file}", kPublic, [](std::shared_ptr<Call> call, Responder respond) {
    const WebAsset* a = FindAsset("/assets/" + call->params["file"]);
    if (a == nullptr) {
      respond(ErrorResponse(core::Error::NotFound("no such asset: " + call->params["file"])));
      return;
    }
    respond(AssetResponse(*a));
  });

  router.Add("POST", "/v1/session", kPublic, [&auth, &sessions](std::shared_ptr<Call> call, Responder respond) {
    auto body = core::ParseJson(call->request.body);
    const boost::json::value* key = nullptr;
    if (body && body->is_object()) key = body->as_object().if_contains("api_key");
    if (key == nullptr || !key->is_string()) {
      respond(ErrorResponse(core::Error::InvalidArgument("body must be {\"api_key\": \"tally_...\"}")));
      return;
    }
    std::string secret(key->as_string());
    auto principal = auth.Authenticate("Bearer " + secret);
    if (!principal) {
      respond(ErrorResponse(principal.error()));
      return;
    }
    if (!principal->Has(store::kScopeRead)) {
      respond(ErrorResponse(core::Error::PermissionDenied(
          fmt::format("API key '{}' lacks the 'read' scope needed to use the web UI", principal->key_id))));
      return;
    }
    std::string csrf;
    std::string token = sessions.Create(*principal, core::Sha256Hex(secret), &csrf);
    HttpResponse r = JsonResponse(200, boost::json::object{{"csrf_token", csrf},
                                                           {"key_id", principal->key_id},
                                                           {"name", principal->name},
                                                           {"scopes", ScopeList(principal->scopes)}});
    r.headers.emplace_back("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200",
                                                     kSessionCookie, token));
    r.headers.emplace_back("Cache-Control", "no-store");
    respond(std::move(r));
  });

  // Public, so the page can ask "am I logged in?" without provoking a 401
  // in the browser console; it reveals nothing without a live session.
  router.Add("GET", "/v1/session", kPublic, [&router, &auth, &sessions](std::shared_ptr<Call> call, Responder respond) {
    std::string token = CookieValue(call->request.Header("cookie").value_or(""), kSessionCookie);
    auto session = sessions.Find(token);
    if (!session) {
      respond(JsonResponse(200, boost::json::object{{"logged_in", false}}));
      return;
    }
    auto principal = auth.AuthenticateHash(session->key_hash);  // a revoked key ends the session
    if (!principal) {
      sessions.Remove(token);
      respond(JsonResponse(200, boost::json::object{{"logged_in", false}}));
      return;
    }
    // Optional parts of the API, so the page shows only what this build serves.
    boost::json::object features{{"alerts", router.HasRoute("GET", "/v1/alerts")},
                                 {"kill_switch", router.HasRoute("POST", "/v1/agents/{id}/pause")},
                                 {"budget_check", router.HasRoute("POST", "/v1/budget/check")},
                                 {"overview", router.HasRoute("GET", "/v1/overview")},
                                 {"ops_events", router.HasRoute("POST", "/webhooks/github")}};
    // A reload loses the CSRF token held in page memory; hand it back to the
    // same-origin page (another site cannot read this answer).
    respond(JsonResponse(200, boost::json::object{{"logged_in", true},
                                                  {"key_id", principal->key_id},
                                                  {"name", principal->name},
                                                  {"scopes", ScopeList(principal->scopes)},
                                                  {"csrf_token", session->csrf_token},
                                                  {"features", std::move(features)}}));
  });

  router.Add("DELETE", "/v1/session", kPublic, [&sessions](std::shared_ptr<Call> call, Responder respond) {
    std::string token = CookieValue(call->request.Header("cookie").value_or(""), kSessionCookie);
    if (!token.empty()) sessions.Remove(token);
    HttpResponse r = JsonResponse(200, boost::json::object{{"status", "logged out"}});
    r.headers.emplace_back("Set-Cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                                                     kSessionCookie));
    respond(std::move(r));
  });
}

}  // namespace tally::server
