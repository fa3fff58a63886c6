// `tally serve`: the HTTP server over the embedded store.
// Shutdown on SIGINT/SIGTERM is graceful: stop accepting, commit and answer
// everything queued, then exit.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "ingest/pipeline.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/handlers_ui.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"

namespace tally::cli {
namespace {

// On first start with no API key, makes an admin key and prints it once.
core::Status EnsureAdminKey(store::Store& store) {
  auto keys = store.ListApiKeys();
  if (!keys) return std::unexpected(keys.error());
  for (const auto& k : *keys) {
    if (!k.revoked_at) return core::OkStatus();
  }
  auto key = server::CreateApiKey(store, store::kScopeAdmin, "bootstrap admin",
                                  core::SystemClock::Instance().Now());
  if (!key) return std::unexpected(key.error());
  std::cout << "\nNo API key existed, so tally created an admin key. It is shown only this once:\n\n"
            << "    " << key->secret << "\n\n"
            << "Create more with: tally keys create --scope ingest|read|admin\n\n";
  return core::OkStatus();
}

}  // namespace

int RunServe(const ServeArgs& args) {
  const core::Config& config = args.config;
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  // Block the stop signals in every thread we start; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::HttpServerOptions http_options;
  if (auto s = server::ParseListen(config.listen, &http_options); !s) return Fail(s.error());
  http_options.io_threads = config.io_threads;
  http_options.max_body_bytes = config.max_body_bytes;

  auto store = OpenStore(config.data_dir);
  if (!store) return Fail(store.error());
  auto prices = LoadPrices(config);
  if (!prices) return Fail(prices.error());
  if (auto s = EnsureAdminKey(**store); !s) return Fail(s.error());

  const core::Clock& clock = core::SystemClock::Instance();
  server::Metrics metrics;
  ingest::PipelineObserver observer;
  observer.on_commit = [&metrics](std::int64_t, std::int64_t, double seconds, bool ok) {
    metrics.ObserveCommit(seconds, ok);
  };
  ingest::Pipeline pipeline(**store, {config.queue_events, config.group_events}, observer);
  metrics.SetQueueDepthSource([&pipeline] { return pipeline.queued_events(); });

  server::Authenticator auth(**store, clock);
  server::Router router(auth, metrics);
  server::HttpServer* http_ptr = nullptr;
  server::Services services{**store, pipeline, *prices, metrics, clock,
                            [&http_ptr](std::function<void()> fn) { http_ptr->RunBlocking(std::move(fn)); }};
  server::RegisterAllRoutes(router, services);
  server::SessionStore ui_sessions(clock);
  server::RegisterUiRoutes(router, auth, ui_sessions);
  server::HttpServer http(router, http_options);
  http_ptr = &http;
  auto port = http.Start();
  if (!port) return Fail(port.error());

  std::cout << fmt::format("tally listening on http://{}:{}  (data: {})", http_options.host, *port,
                           config.data_dir)
            << std::endl;
  if (!args.port_file.empty()) {
    std::string tmp = args.port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    std::rename(tmp.c_str(), args.port_file.c_str());  // readers never see a half-written file
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  pipeline.Stop();  // commits and answers what is queued while connections are still open
  http.Stop();
  return 0;
}

}  // namespace tally::cli
