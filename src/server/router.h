// Router: method + path pattern ("/v1/products/{id}") to handler, with
// authentication and scope checks done before the handler runs, and every
// answer counted in the metrics under its route pattern (not the raw path, so
// ids do not explode label cardinality).
// Thread-safety: Add before serving; Dispatch concurrently afterwards.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/auth.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/sessions.h"

namespace tally::server {

// One request in flight: owned jointly by the server and any handler that
// answers asynchronously.
struct Call {
  HttpRequest request;
  std::map<std::string, std::string> params;  // from {name} path segments, decoded
  Principal principal;
};

using Handler = std::function<void(std::shared_ptr<Call> call, Responder respond)>;

inline constexpr unsigned kPublic = 0;

class Router {
 public:
  Router(Authenticator& auth, Metrics& metrics) : auth_(auth), metrics_(metrics) {}

  // Enables browser sessions: a request without Authorization may
  // authenticate with the session cookie; then any method but GET/HEAD must
  // carry the session's X-CSRF-Token.
  void SetSessions(SessionStore* sessions) { sessions_ = sessions; }

  // required_scope: kPublic or one store::Scope bit.
  void Add(std::string method, std::string pattern, unsigned required_scope, Handler handler);

  // Whether a route with exactly this method and pattern is registered (the
  // UI asks which optional features this build serves).
  bool HasRoute(std::string_view method, std::string_view pattern) const {
    for (const Route& r : routes_) {
      if (r.method == method && r.pattern == pattern) return true;
    }
    return false;
  }

  // Answers 404 for an unknown path, 405 (with Allow) for a known path and
  // another method, 401/403 for auth, else runs the handler.
  void Dispatch(HttpRequest request, Responder respond);

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    unsigned scope;
    Handler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string_view>& parts,
                    std::map<std::string, std::string>* params);

  core::Result<Principal> Authenticate(const HttpRequest& request);

  Authenticator& auth_;
  Metrics& metrics_;
  SessionStore* sessions_ = nullptr;
  std::vector<Route> routes_;
};

}  // namespace tally::server
