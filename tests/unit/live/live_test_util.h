// Shared fixtures of the live tests: events at chosen times, and the list of
// Accumulators backends every contract test runs over.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "live/accumulators.h"
#include "core/business_calendar.h"
#include "live/memory/memory_accumulators.h"
#include "live/redis/redis_accumulators.h"
#include "model/event.h"
#include "support/redis_server.h"

namespace tally::live::testing {

inline core::Timestamp At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

inline model::Event Spend(const std::string& id, const std::string& agent, core::Timestamp t,
                          std::int64_t micros, bool error = false,
                          std::optional<std::string> reservation = std::nullopt) {
  model::LlmCall c;
  c.event_id = id;
  c.time = t;
  c.agent_id = agent;
  c.model = "gpt-4o";
  c.provider = "openai";
  c.cost_usd = core::Money::FromMicros(micros);
  c.status = error ? model::LlmStatus::kError : model::LlmStatus::kSuccess;
  c.reservation_id = std::move(reservation);
  return c;
}

inline model::Event Revenue(const std::string& id, const std::string& product, core::Timestamp t,
                            std::int64_t micros) {
  model::RevenueEvent r;
  r.event_id = id;
  r.time = t;
  r.product_id = product;
  r.amount_usd = core::Money::FromMicros(micros);
  return r;
}

// One backend under test: a name for the test output and a factory.
struct Backend {
  std::string name;
  std::function<std::unique_ptr<Accumulators>(const core::Clock&, core::BusinessCalendar)> make;
};

// A RedisAccumulators on the test binary's shared redis-server, under a
// prefix of its own (so tests never see each other's keys).
inline std::unique_ptr<Accumulators> MakeRedis(const core::Clock& clock, core::BusinessCalendar cal,
                                               std::string prefix = "") {
  static std::atomic<int> next{0};
  redis::RedisOptions options;
  options.url = ::tally::testing::RedisServer::Shared().url();
  options.prefix = prefix.empty() ? "t" + std::to_string(next++) : std::move(prefix);
  auto made = redis::RedisAccumulators::Create(clock, std::move(cal), options);
  if (!made) {
    std::fprintf(stderr, "RedisAccumulators::Create: %s\n", made.error().ToString().c_str());
    std::abort();
  }
  return std::unique_ptr<Accumulators>(std::move(*made));
}

inline std::vector<Backend> AllBackends() {
  return {Backend{"memory",
                  [](const core::Clock& clock, core::BusinessCalendar cal) {
                    return std::unique_ptr<Accumulators>(new MemoryAccumulators(clock, std::move(cal)));
                  }},
          Backend{"redis", [](const core::Clock& clock, core::BusinessCalendar cal) {
                    return MakeRedis(clock, std::move(cal));
                  }}};
}

inline core::Status ApplyEvents(Accumulators& a, const std::vector<model::Event>& events) {
  std::vector<const model::Event*> ptrs;
  for (const auto& e : events) ptrs.push_back(&e);
  return a.Apply(ptrs);
}

}  // namespace tally::live::testing
