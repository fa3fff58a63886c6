// tally: `tally serve` runs the server; every other subcommand is the CLI.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

namespace {

using tally::core::Config;

// Config precedence: defaults < --config file < TALLY_* environment < flags.
// Flags are parsed into optionals first so only the ones given override.
struct CommonFlags {
  std::string config_file;
  std::optional<std::string> data_dir;
  std::optional<std::string> store_url;
  std::optional<std::string> price_table;
  std::optional<std::string> time_zone;
};

void AddCommon(CLI::App* cmd, CommonFlags* f) {
  cmd->add_option("--config", f->config_file, "TOML config file");
  cmd->add_option("--data", f->data_dir, "data folder of the embedded store (default ./tally-data)");
  cmd->add_option("--store", f->store_url, "PostgreSQL store URL (postgres://user:pw@host:5432/db) instead of --data");
  cmd->add_option("--price-table", f->price_table, "LiteLLM model_prices_and_context_window.json");
  cmd->add_option("--time-zone", f->time_zone, "business time zone, IANA name (default [business] time_zone, UTC)");
}

bool ResolveConfig(const CommonFlags& f, Config* config) {
  if (!f.config_file.empty()) {
    if (auto s = tally::core::LoadConfigFile(f.config_file, config); !s) {
      tally::cli::Fail(s.error());
      return false;
    }
  }
  if (auto s = tally::core::ApplyEnvironment(config); !s) {
    tally::cli::Fail(s.error());
    return false;
  }
  if (f.data_dir) {
    config->data_dir = *f.data_dir;
    config->store_url.clear();  // an explicit --data wins over a configured URL
  }
  if (f.store_url) config->store_url = *f.store_url;
  // The store location every subcommand opens (cli::OpenStore): the URL when
  // one is set, else the SQLite folder.
  if (!config->store_url.empty()) config->data_dir = config->store_url;
  if (f.price_table) config->price_table = *f.price_table;
  if (f.time_zone) config->time_zone = *f.time_zone;
  return true;
}

// Wires each subcommand of a group (`keys create|list|revoke`, ...) to `run`:
// its name becomes args.action and the common flags resolve into args.config.
template <typename Args, typename Run>
void RunActions(std::initializer_list<CLI::App*> subs, const CommonFlags& flags, Args& args,
                int& exit_code, Run run) {
  for (auto* sub : subs) {
    sub->callback([&flags, &args, &exit_code, run, sub] {
      args.action = sub->get_name();
      if (!ResolveConfig(flags, &args.config)) { exit_code = 2; return; }
      exit_code = run(args);
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tally: the data & analytics platform of an AI factory"};
  app.require_subcommand(1);
  int exit_code = 0;

  CommonFlags serve_flags;
  tally::cli::ServeArgs serve;
  std::optional<std::string> listen;
  std::optional<std::int64_t> max_body;
  auto* serve_cmd = app.add_subcommand("serve", "run the HTTP server");
  AddCommon(serve_cmd, &serve_flags);
  serve_cmd->add_option("--listen", listen, "host:port (default 127.0.0.1:8787)");
  serve_cmd->add_option("--max-body-bytes", max_body, "largest accepted request body");
  serve_cmd->add_option("--port-file", serve.port_file, "write the bound port here once listening");
  serve_cmd->callback([&] {
    if (!ResolveConfig(serve_flags, &serve.config)) { exit_code = 2; return; }
    if (listen) serve.config.listen = *listen;
    if (max_body) serve.config.max_body_bytes = *max_body;
    exit_code = tally::cli::RunServe(serve);
  });

  CommonFlags migrate_flags;
  auto* migrate_cmd = app.add_subcommand("migrate", "create or upgrade the store's schema");
  AddCommon(migrate_cmd, &migrate_flags);
  migrate_cmd->callback([&] {
    Config config;
    if (!ResolveConfig(migrate_flags, &config)) { exit_code = 2; return; }
    exit_code = tally::cli::RunMigrate(config);
  });

  CommonFlags ingest_flags;
  tally::cli::IngestArgs ingest;
  auto* ingest_cmd = app.add_subcommand("ingest", "backfill NDJSON or CSV files through the same validation");
  AddCommon(ingest_cmd, &ingest_flags);
  ingest_cmd->add_option("files", ingest.files, "NDJSON (.ndjson/.jsonl/.json) or CSV (.csv) files")->required();
  ingest_cmd->add_option("--table", ingest.table, "target table (default: from each file name)");
  ingest_cmd->add_option("--batch", ingest.batch_events, "events per transaction");
  ingest_cmd->add_flag("--quiet", ingest.quiet, "no progress bar");
  ingest_cmd->callback([&] {
    if (!ResolveConfig(ingest_flags, &ingest.config)) { exit_code = 2; return; }
    exit_code = tally::cli::RunIngest(ingest);
  });

  CommonFlags sql_flags;
  tally::cli::SqlArgs sql;
  auto* sql_cmd = app.add_subcommand("sql", "run one read-only SQL statement");
  AddCommon(sql_cmd, &sql_flags);
  sql_cmd->add_option("sql", sql.sql, "SELECT ...")->required();
  sql_cmd->add_flag("--json", sql.json, "print JSON instead of a table");
  sql_cmd->add_option("--max-rows", sql.max_rows, "row limit");
  sql_cmd->callback([&] {
    if (!ResolveConfig(sql_flags, &sql.config)) { exit_code = 2; return; }
    exit_code = tally::cli::RunSql(sql);
  });

  CommonFlags keys_flags;
  tally::cli::KeysArgs keys;
  auto* keys_cmd = app.add_subcommand("keys", "manage API keys");
  keys_cmd->require_subcommand(1);
  auto* keys_create = keys_cmd->add_subcommand("create", "create a key and print it once");
  AddCommon(keys_create, &keys_flags);
  keys_create->add_option("--scope", keys.scopes, "comma-separated: ingest, read, admin");
  keys_create->add_option("--name", keys.name, "label");
  auto* keys_list = keys_cmd->add_subcommand("list", "list keys (never their secrets)");
  AddCommon(keys_list, &keys_flags);
  auto* keys_revoke = keys_cmd->add_subcommand("revoke", "revoke a key by id");
  AddCommon(keys_revoke, &keys_flags);
  keys_revoke->add_option("id", keys.id, "key id (key_...)")->required();
  RunActions({keys_create, keys_list, keys_revoke}, keys_flags, keys, exit_code, tally::cli::RunKeys);

  CommonFlags demo_flags;
  tally::cli::DemoArgs demo;
  auto* demo_cmd = app.add_subcommand("demo", "demo data");
  demo_cmd->require_subcommand(1);
  auto* demo_seed = demo_cmd->add_subcommand("seed", "load a deterministic demo factory");
  AddCommon(demo_seed, &demo_flags);
  demo_seed->add_option("--days", demo.days, "days of history (default 90)");
  demo_seed->add_option("--seed", demo.seed, "random seed (default 42)");
  demo_seed->add_option("--scale", demo.scale, "volume multiplier (default 1)");
  demo_seed->add_flag("--if-empty", demo.if_empty, "do nothing when the store already has LLM calls");
  demo_seed->callback([&] {
    if (!ResolveConfig(demo_flags, &demo.config)) { exit_code = 2; return; }
    exit_code = tally::cli::RunDemoSeed(demo);
  });

  CommonFlags parked_flags;
  tally::cli::ParkedArgs parked;
  auto* parked_cmd = app.add_subcommand("parked", "webhooks waiting for a product mapping");
  parked_cmd->require_subcommand(1);
  auto* parked_list = parked_cmd->add_subcommand("list", "list parked deliveries and why");
  AddCommon(parked_list, &parked_flags);
  parked_list->add_flag("--all", parked.all, "include replayed ones");
  auto* parked_replay = parked_cmd->add_subcommand("replay", "retry every parked delivery");
  AddCommon(parked_replay, &parked_flags);
  RunActions({parked_list, parked_replay}, parked_flags, parked, exit_code, tally::cli::RunParked);

  CommonFlags alerts_flags;
  tally::cli::AlertsArgs alerts;
  auto* alerts_cmd = app.add_subcommand("alerts", "list, acknowledge and silence alerts");
  alerts_cmd->require_subcommand(1);
  auto* alerts_list = alerts_cmd->add_subcommand("list", "alerts, newest first");
  alerts_list->add_option("--state", alerts.state, "firing or resolved (default: both)");
  alerts_list->add_option("--limit", alerts.limit, "at most this many (default 100)");
  alerts_list->add_flag("--json", alerts.json, "print JSON as GET /v1/alerts does");
  auto* alerts_ack = alerts_cmd->add_subcommand("ack", "acknowledge an alert");
  alerts_ack->add_option("id", alerts.id, "alert id")->required();
  auto* alerts_silence = alerts_cmd->add_subcommand("silence", "silence an alert's notifications until a time");
  alerts_silence->add_option("id", alerts.id, "alert id")->required();
  alerts_silence->add_option("--until", alerts.until, "RFC 3339 time");
  alerts_silence->add_option("--minutes", alerts.minutes, "or this many minutes from now");
  for (auto* sub : {alerts_list, alerts_ack, alerts_silence}) AddCommon(sub, &alerts_flags);
  RunActions({alerts_list, alerts_ack, alerts_silence}, alerts_flags, alerts, exit_code, tally::cli::RunAlerts);

  CommonFlags mappings_flags;
  tally::cli::MappingsArgs mappings;
  auto* mappings_cmd = app.add_subcommand("mappings", "provider ids -> products (replays parked webhooks)");
  mappings_cmd->require_subcommand(1);
  auto* mappings_list = mappings_cmd->add_subcommand("list", "list mappings");
  AddCommon(mappings_list, &mappings_flags);
  auto* mappings_add = mappings_cmd->add_subcommand("add", "add or replace a mapping");
  AddCommon(mappings_add, &mappings_flags);
  mappings_add->add_option("--provider", mappings.provider, "stripe, ...")->required();
  mappings_add->add_option("--external-id", mappings.external_id, "price/product/variant id, or *")->required();
  mappings_add->add_option("--product", mappings.product_id, "tally product UUID")->required();
  mappings_add->add_option("--channel", mappings.channel_id, "tally revenue channel UUID");
  RunActions({mappings_list, mappings_add}, mappings_flags, mappings, exit_code, tally::cli::RunMappings);

  // Analytics: kpi, pnl, roi share their flags (the /v1 query parameters).
  CommonFlags analytics_flags;
  tally::cli::AnalyticsArgs analytics;
  std::map<std::string, std::string> analytics_opts;
  for (const char* name : {"kpi", "pnl", "roi"}) {
    auto* cmd = app.add_subcommand(name, std::string(name) == "kpi"   ? "KPIs against their targets"
                                         : std::string(name) == "pnl" ? "per-product P&L"
                                                                      : "ROI per product and per agent");
    AddCommon(cmd, &analytics_flags);
    for (const char* opt : {"from", "to", "product", "agent", "allocation", "granularity"}) {
      cmd->add_option(std::string("--") + opt, analytics_opts[opt], opt);
    }
    cmd->add_flag("--json", analytics.json, "print JSON instead of tables");
    cmd->callback([&, cmd] {
      analytics.command = cmd->get_name();
      analytics.params = analytics_opts;
      // Days are the store's; an explicit zone must match it (as ?tz= does).
      if (analytics_flags.time_zone) analytics.params["tz"] = *analytics_flags.time_zone;
      if (!ResolveConfig(analytics_flags, &analytics.config)) { exit_code = 2; return; }
      exit_code = tally::cli::RunAnalytics(analytics);
    });
  }
  CommonFlags rollups_flags;
  auto* rollups_cmd = app.add_subcommand("rollups", "derived aggregates");
  rollups_cmd->require_subcommand(1);
  auto* rollups_rebuild = rollups_cmd->add_subcommand("rebuild", "recompute every rollup from raw events");
  AddCommon(rollups_rebuild, &rollups_flags);
  rollups_rebuild->callback([&] {
    Config config;
    if (!ResolveConfig(rollups_flags, &config)) { exit_code = 2; return; }
    exit_code = tally::cli::RunRollupsRebuild(config);
  });

  CommonFlags live_flags;
  tally::cli::LiveArgs live;
  auto* live_cmd = app.add_subcommand("live", "live counters (seed §4)");
  live_cmd->require_subcommand(1);
  auto* live_rebuild = live_cmd->add_subcommand("rebuild", "recompute the live counters from the store");
  AddCommon(live_rebuild, &live_flags);
  live_rebuild->add_option("--server", live.server, "ask this running server (in-memory counters)");
  live_rebuild->add_option("--key", live.key, "its admin key (or TALLY_KEY)");
  live_rebuild->callback([&] {
    if (!ResolveConfig(live_flags, &live.config)) { exit_code = 2; return; }
    if (live.key.empty()) {
      if (const char* k = std::getenv("TALLY_KEY")) live.key = k;
    }
    exit_code = tally::cli::RunLiveRebuild(live);
  });

  // Kill switches (seed §6): tally agents pause|resume ID, tally factory pause|resume.
  CommonFlags switch_flags;
  tally::cli::KillSwitchArgs kill_switch;
  auto add_switch = [&](CLI::App* parent, const char* verb, bool paused, bool factory) {
    auto* cmd = parent->add_subcommand(verb, paused ? "pause: every budget check is denied (audited)"
                                                    : "resume: budget checks run again (audited)");
    AddCommon(cmd, &switch_flags);
    if (!factory) cmd->add_option("id", kill_switch.target, "agent id")->required();
    cmd->add_option("--reason", kill_switch.reason, "why (kept in the audit log)");
    cmd->add_option("--server", kill_switch.server, "ask this running server (its checks see it at once)");
    cmd->add_option("--key", kill_switch.key, "its admin key (or TALLY_KEY)");
    cmd->callback([&, paused, factory] {
      if (!ResolveConfig(switch_flags, &kill_switch.config)) { exit_code = 2; return; }
      if (kill_switch.key.empty()) {
        if (const char* k = std::getenv("TALLY_KEY")) kill_switch.key = k;
      }
      if (factory) kill_switch.target = tally::store::kFactoryTarget;
      kill_switch.paused = paused;
      exit_code = tally::cli::RunKillSwitch(kill_switch);
    });
  };
  auto* agents_cmd = app.add_subcommand("agents", "agents: kill switches");
  agents_cmd->require_subcommand(1);
  add_switch(agents_cmd, "pause", true, false);
  add_switch(agents_cmd, "resume", false, false);
  auto* factory_cmd = app.add_subcommand("factory", "the whole factory: kill switch");
  factory_cmd->require_subcommand(1);
  add_switch(factory_cmd, "pause", true, true);
  add_switch(factory_cmd, "resume", false, true);

  CommonFlags dash_flags;
  tally::cli::DashboardsArgs dash;
  auto* dash_cmd = app.add_subcommand("dashboards", "Grafana dashboards (seed §8 hierarchy)");
  dash_cmd->require_subcommand(1);
  auto* dash_export = dash_cmd->add_subcommand("export", "write the dashboards as JSON files");
  AddCommon(dash_export, &dash_flags);
  dash_export->add_option("dir", dash.dir, "target folder")->required();
  auto* dash_push = dash_cmd->add_subcommand("push", "create or update folder, datasource and dashboards in Grafana");
  AddCommon(dash_push, &dash_flags);
  dash_push->add_option("--grafana", dash.grafana_url, "Grafana base URL, e.g. http://127.0.0.1:3000")->required();
  dash_push->add_option("--token", dash.token, "service-account token (or TALLY_GRAFANA_TOKEN)");
  dash_push->add_option("--pg-host", dash.datasource.host, "PostgreSQL host:port as Grafana reaches it");
  dash_push->add_option("--pg-database", dash.datasource.database, "database name");
  dash_push->add_option("--pg-user", dash.datasource.user, "read-only user for Grafana");
  dash_push->add_option("--pg-password", dash.datasource.password, "its password (or TALLY_GRAFANA_PG_PASSWORD)");
  dash_push->add_flag("--timescaledb", dash.datasource.timescaledb, "the database has TimescaleDB");
  for (auto* sub : {dash_export, dash_push}) {
    sub->callback([&, sub] {
      dash.action = sub->get_name();
      if (!ResolveConfig(dash_flags, &dash.config)) { exit_code = 2; return; }
      if (dash.token.empty()) {
        if (const char* t = std::getenv("TALLY_GRAFANA_TOKEN")) dash.token = t;
      }
      if (dash.datasource.password.empty()) {
        if (const char* p = std::getenv("TALLY_GRAFANA_PG_PASSWORD")) dash.datasource.password = p;
      }
      exit_code = tally::cli::RunDashboards(dash);
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
