#include "server/http_types.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tally::server {

std::optional<std::string_view> HttpRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void ParseTarget(std::string_view target, HttpRequest* req) {
  auto q = target.find('?');
  req->path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = UrlDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
    if (!key.empty()) req->query[key] = value;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

int HttpStatusFor(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kInvalidArgument: return 400;
    case core::ErrorCode::kUnauthenticated: return 401;
    case core::ErrorCode::kPermissionDenied: return 403;
    case core::ErrorCode::kNotFound: return 404;
    case core::ErrorCode::kConflict: return 409;
    case core::ErrorCode::kTooLarge: return 413;
    case core::ErrorCode::kUnavailable: return 503;
    case core::ErrorCode::kCorruption:
    case core::ErrorCode::kInternal: return 500;
  }
  return 500;
}

HttpResponse JsonResponse(int status, const boost::json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.body += '\n';
  return r;
}

HttpResponse ErrorResponse(const core::Error& error) {
  boost::json::object err;
  err["code"] = core::ErrorCodeName(error.code());
  err["message"] = error.message();
  if (!error.details().empty()) {
    boost::json::array details;
    details.reserve(error.details().size());
    for (const core::ErrorDetail& d : error.details()) {
      boost::json::object o;
      if (d.index >= 0) o["index"] = d.index;
      if (!d.field.empty()) o["field"] = d.field;
      if (!d.value.empty()) o["value"] = d.value;
      o["message"] = d.message;
      details.emplace_back(std::move(o));
    }
    err["details"] = std::move(details);
  }
  boost::json::object body;
  body["error"] = std::move(err);
  HttpResponse r = JsonResponse(HttpStatusFor(error.code()), body);
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tally\"");
  return r;
}

}  // namespace tally::server
