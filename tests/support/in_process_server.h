// InProcessServer: tally's whole HTTP API inside the test process, over a
// store the test owns: pipeline, authenticator, router with every route,
// HttpServer on a free loopback port. Optional services (live counters,
// budgets, sources) are filled in by Options::configure before the routes are
// registered. Stop() (and the destructor) stop the pipeline first, so every
// queued batch is answered, then the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ingest/pipeline.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"
#include "support/http_client.h"

namespace tally::testing {

struct InProcessServerOptions {
  ingest::PipelineOptions pipeline;
  ingest::PipelineObserver observer;
  std::int64_t max_body_bytes = 1 << 20;
  std::function<void(server::Services&)> configure;
};

class InProcessServer {
 public:
  using Options = InProcessServerOptions;

  InProcessServer(store::Store& store, const core::Clock& clock, const model::PriceTable& prices,
                  Options options = {}) {
    pipeline_ = std::make_unique<ingest::Pipeline>(store, options.pipeline, options.observer);
    auth_ = std::make_unique<server::Authenticator>(store, clock);
    router_ = std::make_unique<server::Router>(*auth_, metrics_);
    services_ = std::make_unique<server::Services>(server::Services{
        store, *pipeline_, prices, metrics_, clock, [this](std::function<void()> fn) { http_->RunBlocking(fn); }});
    if (options.configure) options.configure(*services_);
    server::RegisterAllRoutes(*router_, *services_);
    server::HttpServerOptions http_options;
    http_options.port = 0;
    http_options.max_body_bytes = options.max_body_bytes;
    http_ = std::make_unique<server::HttpServer>(*router_, http_options);
    auto port = http_->Start();
    if (port) {
      port_ = *port;
    } else {
      start_error_ = port.error().ToString();
    }
  }
  ~InProcessServer() { Stop(); }
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // Empty when the server listens; else why it could not start.
  const std::string& start_error() const { return start_error_; }
  std::uint16_t port() const { return port_; }
  ingest::Pipeline& pipeline() { return *pipeline_; }
  server::HttpServer& http() { return *http_; }
  server::Metrics& metrics() { return metrics_; }

  HttpClient Client(const std::string& key) const {
    HttpClient c("127.0.0.1", port_);
    if (!key.empty()) c.SetBearer(key);
    return c;
  }

  void Stop() {
    if (pipeline_) pipeline_->Stop();
    if (http_) http_->Stop();
  }

 private:
  server::Metrics metrics_;
  std::unique_ptr<ingest::Pipeline> pipeline_;
  std::unique_ptr<server::Authenticator> auth_;
  std::unique_ptr<server::Router> router_;
  std::unique_ptr<server::Services> services_;
  std::unique_ptr<server::HttpServer> http_;
  std::uint16_t port_ = 0;
  std::string start_error_;
};

}  // namespace tally::testing
