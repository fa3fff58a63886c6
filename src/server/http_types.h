// Transport-neutral HTTP request/response types, so routing, auth and every
// handler compile and test without Boost.Beast (only http_server.cc sees it).
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tally::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string, not decoded
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;

  // Lowercase header name; nullopt when absent.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends the response; call exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;

// Splits "/a/b?x=1&y=%20" into path and decoded query.
void ParseTarget(std::string_view target, HttpRequest* req);
std::string UrlDecode(std::string_view s);

int HttpStatusFor(core::ErrorCode code);
HttpResponse JsonResponse(int status, const boost::json::value& body);
// {"error": {"code": "invalid_argument", "message": ..., "details": [{index, field, value, message}]}}
// 503 responses carry Retry-After.
HttpResponse ErrorResponse(const core::Error& error);

}  // namespace tally::server
