// The CLI's subcommands. Each returns the process exit code and prints its
// own errors (to stderr, naming what was wrong).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"
#include "live/accumulators.h"
#include "core/business_calendar.h"
#include "dashboards/grafana_client.h"
#include "model/price_table.h"
#include "store/store.h"

namespace tally::cli {

// Opens the store in config.data_dir (a SQLite folder, or a postgres:// URL
// when [store] url / --store is set) and brings its schema up to date.
core::Result<std::unique_ptr<store::Store>> OpenStore(const std::string& data_dir, bool read_only = false);
// Built-in prices overlaid with config.price_table when set.
core::Result<model::PriceTable> LoadPrices(const core::Config& config);
// Prints "error: <message>" and its details to stderr; returns exit code 1.
int Fail(const core::Error& error);

struct ServeArgs {
  core::Config config;
  std::string port_file;  // written with the bound port once listening (tests, scripts)
};
int RunServe(const ServeArgs& args);

struct IngestArgs {
  core::Config config;
  std::vector<std::string> files;
  std::string table;  // empty: from each file's name (llm_calls.ndjson, task_events-2026-03.csv)
  std::int64_t batch_events = 5000;
  bool quiet = false;
};
int RunIngest(const IngestArgs& args);

struct SqlArgs {
  core::Config config;
  std::string sql;
  bool json = false;
  std::int64_t max_rows = 10'000;
};
int RunSql(const SqlArgs& args);

struct KeysArgs {
  core::Config config;
  std::string action;  // create, list, revoke
  std::string scopes = "read";
  std::string name;
  std::string id;
};
int RunKeys(const KeysArgs& args);

struct DemoArgs {
  core::Config config;
  int days = 90;
  std::uint64_t seed = 42;
  double scale = 1.0;
  bool if_empty = false;
};
int RunDemoSeed(const DemoArgs& args);

int RunMigrate(const core::Config& config);

// The live counters backend the config selects: Redis when live.redis_url is
// set (shared by every node), else this process's memory.
core::Result<std::unique_ptr<live::Accumulators>> MakeLiveBackend(const core::Config& config,
                                                                   const core::Clock& clock,
                                                                   const core::BusinessCalendar& calendar);
// For `tally serve`: with Redis, a live::FailoverAccumulators (Redis down at
// start or later: [live] redis_down_policy, reconnection, reconciliation
// through run_serialized); else this process's memory.
core::Result<std::unique_ptr<live::Accumulators>> MakeServeLiveBackend(
    const core::Config& config, const core::Clock& clock, const core::BusinessCalendar& calendar,
    store::Store& store, std::function<bool(std::function<void()>)> run_serialized);

struct LiveArgs {
  core::Config config;
  std::string server;  // with the memory backend: the running server to ask
  std::string key;     // its admin key
};
// `tally live rebuild`: recomputes the live counters from the store.
int RunLiveRebuild(const LiveArgs& args);
// POST json_body to a running server's path with a bearer key; the response
// body on 200, else unavailable naming the URL and the answer.
core::Result<std::string> PostToServer(const std::string& server, const std::string& path, const std::string& key,
                                       const std::string& json_body);

struct KillSwitchArgs {
  core::Config config;
  std::string target;  // an agent id, or store::kFactoryTarget
  bool paused = true;
  std::string reason;
  std::string server;  // a running server to ask (POST /v1/.../pause|resume)
  std::string key;     // its admin key
};
// `tally agents pause|resume ID`, `tally factory pause|resume` (cmd_agents.cc).
int RunKillSwitch(const KillSwitchArgs& args);

struct DashboardsArgs {
  core::Config config;
  std::string action;  // export, push
  std::string dir;     // export target
  std::string grafana_url;
  std::string token;
  std::string folder_uid = "tally";
  dashboards::DatasourceSpec datasource;
};
int RunDashboards(const DashboardsArgs& args);

// `tally kpi | pnl | roi` [--from D] [--to D] [--product X] [--agent A]
// [--allocation R] [--granularity G] [--json] (cmd_analytics.cc).
struct AnalyticsArgs {
  core::Config config;
  std::string command;                        // kpi, pnl, roi
  std::map<std::string, std::string> params;  // as the /v1 query parameters
  bool json = false;
};
int RunAnalytics(const AnalyticsArgs& args);
// `tally rollups rebuild`.
int RunRollupsRebuild(const core::Config& config);

// `tally parked list [--all] | replay` (cmd_parked.cc).
struct ParkedArgs {
  core::Config config;
  std::string action;  // list, replay
  bool all = false;    // list replayed deliveries too
};
int RunParked(const ParkedArgs& args);

// `tally mappings list | add --provider P --external-id X --product UUID [--channel UUID]`.
struct MappingsArgs {
  core::Config config;
  std::string action;  // list, add
  std::string provider;
  std::string external_id;
  std::string product_id;
  std::string channel_id;
};
int RunMappings(const MappingsArgs& args);

// `tally alerts list [--state S] [--limit N] [--json] | ack ID | silence ID
// (--until T | --minutes N)` (cmd_alerts.cc).
struct AlertsArgs {
  core::Config config;
  std::string action;  // list, ack, silence
  std::string state;   // list: "", firing, resolved
  std::int64_t limit = 100;
  bool json = false;
  std::int64_t id = 0;
  std::string until;        // RFC 3339
  std::int64_t minutes = 0;
};
int RunAlerts(const AlertsArgs& args);

}  // namespace tally::cli
