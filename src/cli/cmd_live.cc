// `tally live rebuild`: recomputes the live counters (seed §4) from the store.
// With Redis (live.redis_url) the counters are rebuilt in Redis directly, for
// every node at once. With the in-process backend they live inside the
// running server, so the CLI asks it (POST /v1/live/rebuild, admin key).
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "alerts/curl_http.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "live/failover_accumulators.h"
#include "live/memory/memory_accumulators.h"
#include "live/redis/redis_accumulators.h"
#include "store/open.h"

namespace tally::cli {
namespace {

int AskServer(const LiveArgs& args) {
  auto body = PostToServer(args.server, "/v1/live/rebuild", args.key, "{}");
  if (!body) return Fail(body.error());
  std::cout << *body;
  return 0;
}

}  // namespace

core::Result<std::string> PostToServer(const std::string& server, const std::string& path, const std::string& key,
                                       const std::string& json_body) {
  if (key.empty()) {
    return std::unexpected(core::Error::InvalidArgument("--server needs --key (an admin key) or TALLY_KEY"));
  }
  std::string url = server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  auto r = TALLY_TRY(alerts::CurlRequest(
      "POST", url, {"Authorization: Bearer " + key, "Content-Type: application/json"}, json_body,
      std::chrono::seconds(120)));
  if (r.status != 200) {
    return std::unexpected(
        core::Error::Unavailable(fmt::format("POST {} answered {}: {}", url, r.status, r.body)));
  }
  return r.body;
}

core::Result<std::unique_ptr<live::Accumulators>> MakeLiveBackend(const core::Config& config,
                                                                   const core::Clock& clock,
                                                                   const core::BusinessCalendar& calendar) {
  if (config.live_redis_url.empty()) {
    return std::unique_ptr<live::Accumulators>(std::make_unique<live::MemoryAccumulators>(clock, calendar));
  }
  live::redis::RedisOptions options;
  options.url = config.live_redis_url;
  options.prefix = config.live_redis_prefix;
  auto made = live::redis::RedisAccumulators::Create(clock, calendar, options);
  if (!made) return std::unexpected(made.error());
  return std::unique_ptr<live::Accumulators>(std::move(*made));
}

core::Result<std::unique_ptr<live::Accumulators>> MakeServeLiveBackend(
    const core::Config& config, const core::Clock& clock, const core::BusinessCalendar& calendar,
    store::Store& store, std::function<bool(std::function<void()>)> run_serialized) {
  if (config.live_redis_url.empty()) return MakeLiveBackend(config, clock, calendar);
  live::FailoverOptions options;
  options.policy = TALLY_TRY(live::ParseRedisDownPolicy(config.live_redis_down_policy));
  options.run_serialized = std::move(run_serialized);
  live::redis::RedisOptions redis;
  redis.url = config.live_redis_url;
  redis.prefix = config.live_redis_prefix;
  // A bad URL or prefix is a configuration error, not an outage.
  TALLY_TRY(live::redis::ParseRedisUrl(redis.url));
  if (redis.prefix.empty()) return std::unexpected(core::Error::InvalidArgument("live.redis_prefix is empty"));
  auto connect = [&clock, calendar, redis]() -> core::Result<std::unique_ptr<live::Accumulators>> {
    auto made = live::redis::RedisAccumulators::Create(clock, calendar, redis);
    if (!made) return std::unexpected(made.error());
    return std::unique_ptr<live::Accumulators>(std::move(*made));
  };
  return std::unique_ptr<live::Accumulators>(
      std::make_unique<live::FailoverAccumulators>(connect, store, clock, calendar, std::move(options)));
}

int RunLiveRebuild(const LiveArgs& args) {
  if (!args.server.empty()) return AskServer(args);
  if (args.config.live_redis_url.empty()) {
    return Fail(core::Error::InvalidArgument(
        "the live counters are in the server's memory (no live.redis_url / TALLY_LIVE_REDIS_URL); "
        "ask it with: tally live rebuild --server http://127.0.0.1:8787 --key <admin key>"));
  }
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto calendar = core::BusinessCalendar::Create(args.config.time_zone);
  if (!calendar) return Fail(calendar.error());
  const core::Clock& clock = core::SystemClock::Instance();
  auto backend = MakeLiveBackend(args.config, clock, *calendar);
  if (!backend) return Fail(backend.error());
  if (auto s = (*backend)->Rebuild(**store); !s) return Fail(s.error());
  std::cout << fmt::format("live counters rebuilt in redis (prefix '{}') from {}\n", args.config.live_redis_prefix,
                           store::RedactLocation(args.config.data_dir));
  return 0;
}

}  // namespace tally::cli
