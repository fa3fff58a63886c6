// `tally serve`: the HTTP server over the embedded store.
// Shutdown on SIGINT/SIGTERM is graceful: stop accepting, commit and answer
// everything queued, then exit.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <thread>
#include <iostream>

#include "cli/commands.h"
#include "cli/serve_alerts.h"
#include "core/clock.h"
#include "ingest/bus/bus_consumer.h"
#include "ingest/pipeline.h"
#include "live/budget_enforcer.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/handlers_ui.h"
#include "dashboards/grafana_client.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/router.h"
#include "store/open.h"
#include "store/postgres/pg_store.h"

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
  // PostgreSQL with pg_partman: partitions premade and retention applied
  // hourly by tally itself (docs/postgres.md), no operator cron.
  if (auto* pg = dynamic_cast<store::PostgresStore*>(store->get())) {
    pg->StartMaintenance(std::chrono::hours(1), [](const auto& report) {
      if (!report) {
        spdlog::warn("postgres maintenance failed: {}", report.error().ToString());
      } else if (!report->skipped && (report->partitions_created || report->partitions_dropped)) {
        spdlog::info("postgres maintenance: {} partitions created, {} dropped, {} ids forgotten",
                     report->partitions_created, report->partitions_dropped, report->ids_pruned);
      }
    });
  }

  const core::Clock& clock = core::SystemClock::Instance();
  server::Metrics metrics;
  ingest::PipelineObserver observer;
  observer.on_commit = [&metrics](std::int64_t, std::int64_t, double seconds, bool ok) {
    metrics.ObserveCommit(seconds, ok);
  };
  // Live counters: rebuilt from the store before the pipeline starts (so the
  // rebuild is exact), then written through after every commit.
  auto calendar = core::BusinessCalendar::Create(config.time_zone);
  if (!calendar) return Fail(calendar.error());
  // The rollups follow [business] time_zone: a change of zone re-cuts them
  // from raw (one transaction) before anything is served or ingested.
  if (auto stored = (*store)->RollupTimeZone(); !stored) {
    return Fail(stored.error());
  } else if (*stored != calendar->time_zone()) {
    spdlog::info("rollups: business time zone '{}' -> '{}': rebuilding them from raw", *stored,
                 calendar->time_zone());
    if (auto s = (*store)->SetRollupTimeZone(calendar->time_zone()); !s) return Fail(s.error());
  }
  auto budget_options = live::BudgetOptionsFromConfig(config);
  if (!budget_options) return Fail(budget_options.error());
  // live.redis_url / TALLY_LIVE_REDIS_URL: counters and reservations in Redis,
  // shared by every node; empty keeps them in this process.
  // With Redis, a Redis outage degrades to [live] redis_down_policy; the
  // reconciliation when it is back runs on the pipeline's writer thread (an
  // empty batch's callback), after every commit before it was applied and
  // with none running.
  ingest::Pipeline* pipeline_ptr = nullptr;
  auto live_backend = MakeServeLiveBackend(
      config, clock, *calendar, **store, [&pipeline_ptr](std::function<void()> fn) {
        if (pipeline_ptr == nullptr) return false;
        return pipeline_ptr->Submit(model::Batch{"live:reconcile", {}},
                                    [fn = std::move(fn)](core::Result<store::AppendStats>) { fn(); })
            .has_value();
      });
  if (!live_backend) return Fail(live_backend.error());
  live::Accumulators& live_counters = **live_backend;
  if (auto s = live_counters.Rebuild(**store); !s) return Fail(s.error());
  if (!config.grafana_url.empty() && !config.grafana_token.empty()) {
    // Pauses (by an operator or by runaway detection) become annotations on
    // the overview and agent dashboards. Rare, and possibly inside a budget
    // check, so the HTTP call runs on its own thread.
    budget_options->on_pause_change = [url = config.grafana_url, token = config.grafana_token, &clock](
                                          const std::string& target, bool paused, const std::string& reason,
                                          const std::string& actor) {
      std::string text = fmt::format("{} {} by {}: {}", target, paused ? "paused" : "resumed", actor, reason);
      std::thread([url, token, text, when = clock.Now(), paused] {
        dashboards::GrafanaClient client(url, token);
        for (const char* uid : {"tally-overview", "tally-agents"}) {
          auto s = client.Annotate(uid, when, text, {paused ? "pause" : "resume"});
          if (!s) spdlog::warn("grafana annotation: {}", s.error().ToString());
        }
      }).detach();
    };
  }
  live::BudgetEnforcer budget(live_counters, **store, *prices, clock, *budget_options);
  if (auto s = budget.Init(); !s) return Fail(s.error());
  observer.on_committed = [&live_counters](std::span<const model::Batch* const> batches,
                                           std::span<const store::AppendStats> stats) {
    auto events = live::NewlyStored(batches, stats);
    if (auto s = live_counters.Apply(events); !s) {
      spdlog::error("live counters: {} (run `tally live rebuild`)", s.error().ToString());
    }
  };
  int writers = (*store)->ConcurrentAppends();
  if (config.pipeline_writers > 0) writers = static_cast<int>(std::min<std::int64_t>(config.pipeline_writers, writers));
  ingest::Pipeline pipeline(**store, {config.queue_events, config.group_events, writers}, observer);
  pipeline_ptr = &pipeline;
  metrics.SetQueueDepthSource([&pipeline] { return pipeline.queued_events(); });
  metrics.SetLiveDegradedSource([&live_counters] { return live_counters.degraded(); });

  // Alerts (docs/alerts.md): probes and notifiers here, rules on the leader.
  auto alerts_runtime = ServeAlerts::Create(config, **store, clock, pipeline, live_counters, budget);
  if (!alerts_runtime) return Fail(alerts_runtime.error());
  std::unique_ptr<ServeAlerts> serve_alerts = std::move(*alerts_runtime);

  server::Authenticator auth(**store, clock);
  server::Router router(auth, metrics);
  server::HttpServer* http_ptr = nullptr;
  server::Services services{**store, pipeline, *prices, metrics, clock,
                            [&http_ptr](std::function<void()> fn) { http_ptr->RunBlocking(std::move(fn)); }};
  services.live = &live_counters;
  services.budget = &budget;
  auto sources = ingest::SourceRegistry::FromConfig(config.sources);
  services.sources = sources.get();
  if (!config.grafana_url.empty() && !config.grafana_token.empty()) {
    // A new product gets its dashboard from the template right away; a
    // Grafana that is down costs a log line, never the product's creation.
    dashboards::DashboardOptions dashboard_options;
    dashboard_options.time_zone = calendar->time_zone();
    services.on_product_created = [url = config.grafana_url, token = config.grafana_token,
                                   dashboard_options](const model::Product& p) {
      dashboards::GrafanaClient client(url, token);
      auto built = dashboards::BuildDashboards({p}, dashboard_options);
      auto status = client.EnsureFolder("tally", "tally");
      if (status) status = client.UpsertDashboard(built.back(), "tally");
      if (!status) spdlog::warn("grafana: dashboard for product {}: {}", p.id, status.error().ToString());
    };
  }
  if (serve_alerts) services.alerts_status = [&serve_alerts] { return serve_alerts->Status(); };
  server::RegisterAllRoutes(router, services);
  server::SessionStore ui_sessions(clock);
  server::RegisterUiRoutes(router, auth, ui_sessions);
  server::HttpServer http(router, http_options);
  http_ptr = &http;
  auto port = http.Start();
  if (!port) return Fail(port.error());

  std::cout << fmt::format("tally listening on http://{}:{}  (data: {})", http_options.host, *port,
                           store::RedactLocation(config.data_dir))
            << std::endl;
  if (!args.port_file.empty()) {
    std::string tmp = args.port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    std::rename(tmp.c_str(), args.port_file.c_str());  // readers never see a half-written file
  }

  if (serve_alerts) serve_alerts->Start();

  // The agent event bus (bus.redis_url, docs/integrations/redis-streams.md):
  // entries go through the pipeline and are XACKed after their commit.
  std::unique_ptr<ingest::bus::BusConsumer> bus;
  if (!config.sources.bus_redis_url.empty()) {
    const core::SourcesConfig& sc = config.sources;
    ingest::bus::BusOptions bus_options{sc.bus_redis_url, sc.bus_stream, sc.bus_group, sc.bus_consumer,
                                        sc.bus_dead_letter_stream, std::chrono::milliseconds(sc.bus_claim_idle_ms)};
    auto started = ingest::bus::BusConsumer::Start(
        bus_options, pipeline, *prices,
        [&metrics](std::string_view outcome, std::int64_t n) { metrics.ObserveBus(outcome, n); });
    if (!started) return Fail(started.error());
    bus = std::move(*started);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  if (serve_alerts) serve_alerts->Stop();  // hands the lease over before the pipeline stops
  if (bus) bus->Stop();  // its chunk in flight commits and is acknowledged first
  pipeline.Stop();  // commits and answers what is queued while connections are still open
  http.Stop();
  return 0;
}

}  // namespace tally::cli
