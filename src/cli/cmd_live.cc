// `tally live rebuild`: recomputes the live counters (seed §4) from the store.
// With Redis (live.redis_url) the counters are rebuilt in Redis directly, for
// every node at once. With the in-process backend they live inside the
// running server, so the CLI asks it (POST /v1/live/rebuild, admin key).
#include <curl/curl.h>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "live/memory/memory_accumulators.h"
#include "live/redis/redis_accumulators.h"

namespace tally::cli {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

int AskServer(const LiveArgs& args) {
  if (args.key.empty()) {
    return Fail(core::Error::InvalidArgument("--server needs --key (an admin key) or TALLY_KEY"));
  }
  std::string url = args.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/v1/live/rebuild";
  CURL* curl = curl_easy_init();
  std::string body;
  curl_slist* headers = curl_slist_append(nullptr, ("Authorization: Bearer " + args.key).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Fail(core::Error::Unavailable(fmt::format("POST {}: {}", url, curl_easy_strerror(rc))));
  }
  if (status != 200) return Fail(core::Error::Unavailable(fmt::format("POST {} answered {}: {}", url, status, body)));
  std::cout << body;
  return 0;
}

}  // namespace

core::Result<std::unique_ptr<live::Accumulators>> MakeLiveBackend(const core::Config& config,
                                                                   const core::Clock& clock,
                                                                   const live::BusinessCalendar& calendar) {
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

int RunLiveRebuild(const LiveArgs& args) {
  if (!args.server.empty()) return AskServer(args);
  if (args.config.live_redis_url.empty()) {
    return Fail(core::Error::InvalidArgument(
        "the live counters are in the server's memory (no live.redis_url / TALLY_LIVE_REDIS_URL); "
        "ask it with: tally live rebuild --server http://127.0.0.1:8787 --key <admin key>"));
  }
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto calendar = live::BusinessCalendar::Create(args.config.time_zone);
  if (!calendar) return Fail(calendar.error());
  const core::Clock& clock = core::SystemClock::Instance();
  auto backend = MakeLiveBackend(args.config, clock, *calendar);
  if (!backend) return Fail(backend.error());
  if (auto s = (*backend)->Rebuild(**store); !s) return Fail(s.error());
  std::cout << fmt::format("live counters rebuilt in redis (prefix '{}') from {}\n", args.config.live_redis_prefix,
                           args.config.data_dir);
  return 0;
}

}  // namespace tally::cli
