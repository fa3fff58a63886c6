#include "server/router.h"

#include <fmt/format.h>

#include "core/ids.h"

namespace tally::server {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

// Metrics label for a method: a fixed set, so arbitrary method tokens from
// unauthenticated clients cannot create unbounded series.
std::string MethodLabel(const std::string& m) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (m == known) return m;
  }
  return "other";
}

}  // namespace

void Router::Add(std::string method, std::string pattern, unsigned required_scope, Handler handler) {
  Route r{std::move(method), pattern, {}, required_scope, std::move(handler)};
  for (std::string_view s : SplitPath(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

bool Router::Match(const Route& route, const std::vector<std::string_view>& parts,
                   std::map<std::string, std::string>* params) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      (*params)[seg.substr(1, seg.size() - 2)] = UrlDecode(parts[i]);
    } else if (seg != parts[i]) {
      return false;
    }
  }
  return true;
}

core::Result<Principal> Router::Authenticate(const HttpRequest& request) {
  auto authorization = request.Header("authorization");
  if (authorization || sessions_ == nullptr) return auth_.Authenticate(authorization);
  std::string token = CookieValue(request.Header("cookie").value_or(""), kSessionCookie);
  if (token.empty()) return auth_.Authenticate(authorization);  // the usual 401
  auto session = sessions_->Find(token);
  if (!session) {
    return std::unexpected(core::Error::Unauthenticated("session expired or unknown; log in again"));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    // SameSite=Strict already keeps other sites' forms out; the token is the
    // second lock, for browsers or proxies that do not honour SameSite.
    auto csrf = request.Header("x-csrf-token");
    if (!csrf || !core::ConstantTimeEquals(*csrf, session->csrf_token)) {
      return std::unexpected(core::Error::PermissionDenied("missing or wrong X-CSRF-Token for this session"));
    }
  }
  // Re-checks the key itself so revoking it ends its browser sessions too.
  return auth_.AuthenticateHash(session->key_hash);
}

void Router::Dispatch(HttpRequest request, Responder respond) {
  auto parts = SplitPath(request.path);
  const Route* found = nullptr;
  std::string allowed;
  std::map<std::string, std::string> params;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> p;
    if (!Match(r, parts, &p)) continue;
    if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
      found = &r;
      params = std::move(p);
      break;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += r.method;
  }
  std::string method = MethodLabel(request.method);
  if (found == nullptr) {
    HttpResponse resp;
    if (allowed.empty()) {
      resp = ErrorResponse(core::Error::NotFound(fmt::format("no such endpoint: {} {}", request.method, request.path)));
      metrics_.ObserveRequest("unmatched", method, resp.status);
    } else {
      resp = ErrorResponse(core::Error(core::ErrorCode::kInvalidArgument,
                                       fmt::format("method {} not allowed on {}", request.method, request.path)));
      resp.status = 405;
      resp.headers.emplace_back("Allow", allowed);
      metrics_.ObserveRequest("unmatched", method, resp.status);
    }
    respond(std::move(resp));
    return;
  }
  const std::string& pattern = found->pattern;
  Responder counted = [this, pattern, method, respond = std::move(respond)](HttpResponse resp) {
    metrics_.ObserveRequest(pattern, method, resp.status);
    respond(std::move(resp));
  };
  auto call = std::make_shared<Call>();
  if (found->scope != kPublic) {
    auto principal = Authenticate(request);
    if (!principal) {
      counted(ErrorResponse(principal.error()));
      return;
    }
    if (!principal->Has(static_cast<store::Scope>(found->scope))) {
      counted(ErrorResponse(core::Error::PermissionDenied(fmt::format(
          "API key '{}' lacks the '{}' scope needed for {} {}", principal->key_id,
          store::ScopesToString(found->scope), method, pattern))));
      return;
    }
    call->principal = std::move(*principal);
  }
  call->request = std::move(request);
  call->params = std::move(params);
  found->handler(std::move(call), std::move(counted));
}

}  // namespace tally::server
