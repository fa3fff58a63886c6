#include "alerts/curl_http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>

namespace tally::alerts {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

core::Result<HttpResult> CurlRequest(const std::string& method, const std::string& url,
                                     const std::vector<std::string>& headers, const std::string& body,
                                     std::chrono::milliseconds timeout) {
  static CurlInit init;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return std::unexpected(core::Error::Internal("curl_easy_init failed"));
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(list, curl_slist_free_all);
  HttpResult out;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(c);
  out.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (rc != CURLE_OK) {
    return std::unexpected(core::Error::Unavailable(
        fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc))));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

core::Status StatusFromHttp(const std::string& what, const HttpResult& r) {
  if (r.status >= 200 && r.status < 300) return core::OkStatus();
  std::string msg = fmt::format("{}: HTTP {}: {}", what, r.status, r.body.substr(0, 300));
  if (r.status == 408 || r.status == 429 || r.status >= 500) {
    return std::unexpected(core::Error::Unavailable(msg));
  }
  return std::unexpected(core::Error::InvalidArgument(msg));
}

}  // namespace tally::alerts
