// HttpReceiver: a local HTTP server (tally's own HttpServer and Router on a
// loopback port 0) that records every request to the routes a test accepts
// and answers each with the status the test set, for testing HTTP clients
// (webhook and WhatsApp notifiers, uptime probes, a cluster's webhook
// deliveries). FakeGrafana is the same idea with Grafana's checks on top.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "server/http_server.h"
#include "server/router.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace tally::testing {

class HttpReceiver {
 public:
  struct Request {
    std::string method, path, body, authorization, content_type;
  };

  HttpReceiver() {
    store_ = std::move(*store::SqliteStore::Open(dir_.str()));
    auth_ = std::make_unique<server::Authenticator>(*store_, core::SystemClock::Instance());
    router_ = std::make_unique<server::Router>(*auth_, metrics_);
  }
  ~HttpReceiver() { Stop(); }
  void Stop() {
    if (http_) http_->Stop();
    http_.reset();
  }
  // For servers with their own handlers (FakeGrafana): add routes, then Start.
  server::Router& router() { return *router_; }

  // Records requests to method + pattern (router syntax, "/{id}" segments).
  // Call before Start.
  void Accept(const std::string& method, const std::string& pattern) {
    router_->Add(method, pattern, server::kPublic,
                 [this, method](std::shared_ptr<server::Call> c, server::Responder respond) {
                   int status;
                   {
                     std::lock_guard l(mu_);
                     requests_.push_back({method, c->request.path, c->request.body,
                                          std::string(c->request.Header("authorization").value_or("")),
                                          std::string(c->request.Header("content-type").value_or(""))});
                     status = statuses_.empty() ? 200 : statuses_.front();
                     if (!statuses_.empty() && statuses_.size() > 1) statuses_.pop_front();
                   }
                   cv_.notify_all();
                   respond(server::JsonResponse(status, boost::json::object{{"ok", status < 300}}));
                 });
  }
  void Start() {
    server::HttpServerOptions options;
    options.port = 0;
    http_ = std::make_unique<server::HttpServer>(*router_, options);
    port_ = *http_->Start();
  }
  // Answers: the given statuses in turn, the last one repeating. Default 200.
  void SetStatuses(std::vector<int> statuses) {
    std::lock_guard l(mu_);
    statuses_.assign(statuses.begin(), statuses.end());
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  // Waits (bounded) until at least n requests arrived; false on timeout.
  bool WaitFor(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  server::Metrics metrics_;
  std::unique_ptr<server::Authenticator> auth_;
  std::unique_ptr<server::Router> router_;
  std::unique_ptr<server::HttpServer> http_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
  std::deque<int> statuses_;
};

}  // namespace tally::testing
