// Config: every setting of `tally serve` and the CLI, with its default.
//
// Sources, later ones winning: built-in defaults < TOML file (--config) <
// environment (TALLY_*) < command-line flags (applied by the CLI). Each field
// documents its meaning, default and trade-off; docs/configuration.md lists them.
#pragma once

#include <cstdint>
#include <string>

#include "core/config_alerts.h"
#include "core/config_sources.h"
#include "core/result.h"

namespace tally::core {

struct Config {
  // [server] listen: host:port of the HTTP API. Loopback by default: put a TLS
  // proxy in front before exposing it.
  std::string listen = "127.0.0.1:8787";
  // [server] threads: I/O threads parsing and validating requests.
  int io_threads = 2;
  // [server] max_body_bytes: larger request bodies get 413. 32 MiB fits a
  // 100k-event NDJSON batch.
  std::int64_t max_body_bytes = 32 * 1024 * 1024;

  // [store] data_dir: folder of the embedded SQLite store.
  std::string data_dir = "./tally-data";
  // [store] url: a PostgreSQL URL (postgres://user:pw@host:5432/db) selects
  // the PostgreSQL store instead of data_dir's SQLite file (many nodes share
  // one database). Env TALLY_STORE_URL, flag --store. Empty: SQLite.
  std::string store_url;

  // [pipeline] queue_events: events accepted but not yet committed. Past it
  // ingest answers 503 + Retry-After instead of growing memory without bound.
  std::int64_t queue_events = 500'000;
  // [pipeline] group_events: most events committed in one transaction. Bigger
  // groups amortize the fsync; smaller ones lower the latency of each ack.
  std::int64_t group_events = 50'000;
  // [pipeline] writers: groups in the store at once, at most what the store
  // offers (Store::ConcurrentAppends: SQLite 1, PostgreSQL 2); 1 stores one
  // group after the other. Env TALLY_PIPELINE_WRITERS. 0: the store's number.
  std::int64_t pipeline_writers = 0;

  // [pricing] price_table: LiteLLM model_prices_and_context_window.json to
  // load over the built-in defaults. Empty: built-in table only.
  std::string price_table;

  // [grafana] url, token: when both are set, `tally serve` pushes a new
  // product's dashboard to Grafana as soon as the product is created (the
  // rest of the hierarchy with `tally dashboards push`). Env TALLY_GRAFANA_URL,
  // TALLY_GRAFANA_TOKEN.
  std::string grafana_url;
  std::string grafana_token;

  // [log] level: trace, debug, info, warn, error.
  std::string log_level = "info";

  // [business] time_zone: IANA zone where business days and months start
  // (budget resets, "today" counters). Default UTC.
  std::string time_zone = "UTC";

  // [budget] Budget checks (src/live/budget_enforcer.h). Money as decimal
  // text, exact. reservation_ttl_seconds: an unsettled reservation lapses
  // after it (longer holds budget for crashed callers, shorter may free it
  // before a slow call's record arrives). runaway_usd_per_min: absolute
  // velocity that trips runaway ("0" disables it); runaway_multiple x the
  // rolling-hour average trips it too, above runaway_floor_usd_per_min.
  // unknown_model_usd_per_mtok: rate for models missing from the price
  // table; empty refuses such checks (never priced at zero).
  std::int64_t budget_reservation_ttl_seconds = 300;
  std::string budget_runaway_usd_per_min = "5";
  std::int64_t budget_runaway_multiple = 3;
  std::string budget_runaway_floor_usd_per_min = "0.10";
  std::string budget_unknown_model_usd_per_mtok;

  // [live] redis_url: Redis for the live counters and budget reservations,
  // shared by every node (redis://host:port/db); empty keeps them in memory.
  // redis_prefix: key prefix (docs/redis-keys.md). Env TALLY_LIVE_REDIS_URL.
  std::string live_redis_url;
  std::string live_redis_prefix = "dash";
  // redis_down_policy: budget checks while Redis is unreachable: shadow (this
  // node's in-process counters answer, flagged degraded), deny or allow
  // (src/live/failover_accumulators.h).
  std::string live_redis_down_policy = "shadow";

  // [stripe], [lemonsqueezy], [gumroad], [github], [litellm], [currency]:
  // webhook secrets, the LiteLLM agent rule and exchange rates
  // (core/config_sources.h).
  SourcesConfig sources;

  // [alerts]: rules, evaluation and notifiers (core/config_alerts.h).
  AlertsConfig alerts;
};

// Reads a TOML file over the defaults in *config. Unknown keys are errors
// (a typo must not silently keep a default).
Status LoadConfigFile(const std::string& path, Config* config);
// Applies TALLY_LISTEN, TALLY_DATA, TALLY_MAX_BODY_BYTES, TALLY_QUEUE_EVENTS,
// TALLY_GROUP_EVENTS, TALLY_PRICE_TABLE, TALLY_LOG_LEVEL, TALLY_IO_THREADS.
Status ApplyEnvironment(Config* config);

}  // namespace tally::core
