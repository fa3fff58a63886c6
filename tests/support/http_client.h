// HttpClient: a blocking HTTP/1.1 keep-alive client for tests and the load
// generator (Boost.Beast). Reconnects once when the server closed the
// connection. Not thread-safe: one per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"

namespace tally::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  void SetBearer(std::string key) { bearer_ = std::move(key); }
  // unavailable when the server cannot be reached or drops the connection
  // mid-request (the request may or may not have been processed).
  core::Result<ClientResponse> Request(const std::string& method, const std::string& target,
                                       const std::string& body = "",
                                       const std::string& content_type = "application/json",
                                       const std::map<std::string, std::string>& extra_headers = {});
  core::Result<ClientResponse> Get(const std::string& target) { return Request("GET", target); }
  core::Result<ClientResponse> Post(const std::string& target, const std::string& body,
                                    const std::string& content_type = "application/json") {
    return Request("POST", target, body, content_type);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bearer_;
};

}  // namespace tally::testing
