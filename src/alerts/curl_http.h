// A blocking HTTP request over libcurl for the notifiers and uptime probes:
// one call, one connection, a hard timeout. Transport failures (DNS, refused,
// timeout, TLS) are unavailable; any HTTP answer is a result with its status.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace tally::alerts {

struct HttpResult {
  long status = 0;
  std::string body;
  std::chrono::milliseconds latency{0};
};

core::Result<HttpResult> CurlRequest(const std::string& method, const std::string& url,
                                     const std::vector<std::string>& headers, const std::string& body,
                                     std::chrono::milliseconds timeout);

// A notifier's view of an answer: 2xx ok; 408, 429 and 5xx unavailable
// (retry); other statuses invalid_argument (the request is wrong: no retry).
core::Status StatusFromHttp(const std::string& what, const HttpResult& r);

}  // namespace tally::alerts
