// `tally agents pause ID --reason ...`, `tally agents resume ID`,
// `tally factory pause|resume`: the kill switches of seed §6 from the shell.
//
// With --server (and an admin --key / TALLY_KEY) the running server does it
// (POST /v1/agents/{id}/pause ...): its checks see it at once, and the audit
// log names the key. Without --server the store is written directly (the
// audit log names "cli:$USER") and, with Redis (live.redis_url), the switch
// is copied to Redis, which every node's next check reads. With the
// in-process backend and no --server, a running server sees an agent pause
// within its agent cache (5 s); the factory switch needs --server.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "live/redis/redis_accumulators.h"

namespace tally::cli {

int RunKillSwitch(const KillSwitchArgs& args) {
  const bool factory = args.target == store::kFactoryTarget;
  const char* verb = args.paused ? "pause" : "resume";
  const std::string what = factory ? std::string("the factory") : fmt::format("agent '{}'", args.target);
  if (!args.server.empty()) {
    std::string path = factory ? fmt::format("/v1/factory/{}", verb) : fmt::format("/v1/agents/{}/{}", args.target, verb);
    auto body = PostToServer(args.server, path, args.key,
                             boost::json::serialize(boost::json::object{{"reason", args.reason}}));
    if (!body) return Fail(body.error());
    std::cout << fmt::format("{} {}d (by the server at {})\n", what, verb, args.server);
    return 0;
  }
  if (factory && args.config.live_redis_url.empty()) {
    return Fail(core::Error::InvalidArgument(
        "the live counters are in the server's memory (no live.redis_url): a running server only sees the "
        "factory switch through its API; use --server http://127.0.0.1:8787 --key <admin key>"));
  }
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  if (!factory) {
    if (auto agent = (*store)->GetAgent(args.target); !agent) return Fail(agent.error());
  }
  const core::Clock& clock = core::SystemClock::Instance();
  const char* user = std::getenv("USER");
  std::string actor = fmt::format("cli:{}", user != nullptr && *user != '\0' ? user : "unknown");
  if (auto s = (*store)->SetKillSwitch(store::KillSwitchChange{args.target, args.paused, args.reason, actor, clock.Now()});
      !s) {
    return Fail(s.error());
  }
  if (!args.config.live_redis_url.empty()) {
    auto calendar = core::BusinessCalendar::Create(args.config.time_zone);
    if (!calendar) return Fail(calendar.error());
    auto backend = MakeLiveBackend(args.config, clock, *calendar);
    // Stored already: a Redis that cannot be reached gets the switch at the
    // next rebuild or reconciliation; say so rather than pretend.
    if (!backend) {
      std::cerr << fmt::format("{} {}d in the store, but redis is unreachable ({}): other nodes see it after "
                               "`tally live rebuild`\n",
                               what, verb, backend.error().message());
      return 1;
    }
    if (auto s = (*backend)->SetPause(args.target, args.paused); !s) return Fail(s.error());
    std::cout << fmt::format("{} {}d (store and redis: every node's next check)\n", what, verb);
    return 0;
  }
  std::cout << fmt::format("{} {}d in the store (a running server sees it within its agent cache, 5 s)\n", what, verb);
  return 0;
}

}  // namespace tally::cli
