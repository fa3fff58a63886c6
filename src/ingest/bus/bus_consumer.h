// BusConsumer: reads the factory's agent event bus, a Redis Stream, through a
// consumer group, into the store via the ingest pipeline.
//
// Guarantees:
//  - At least once from Redis, exactly once in the store: an entry is
//    XACKed only after the pipeline reported the transaction holding its
//    event durable; every event has a stable event_id (bus_entry.h), so an
//    entry delivered again (after a crash before XACK) is a duplicate.
//  - Nothing is lost: on start the consumer first re-reads its own pending
//    entries (XREADGROUP ... 0), and periodically takes over entries pending
//    on other consumers for longer than claim_idle (XAUTOCLAIM): a consumer
//    that died keeps nothing.
//  - An entry that is not a valid event is moved to the dead-letter stream
//    with the reason (XADD + XACK in one Lua script, so it is in exactly one
//    of the two) and counted; it never blocks the entries behind it.
//  - A store or pipeline failure leaves the entries pending; the consumer
//    backs off and reads them again.
//  - Stop() finishes the chunk in flight (its commit and XACK) and returns;
//    call it before stopping the pipeline.
// Thread-safety: one background thread; Stop from any thread, once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.h"
#include "ingest/pipeline.h"
#include "model/price_table.h"

namespace tally::live::redis {
class RedisConnection;
}

namespace tally::ingest::bus {

struct BusOptions {
  std::string redis_url;                   // redis://host:port/db
  std::string stream = "tally:events";
  std::string group = "tally";
  std::string consumer;                    // empty: the host name (stable across restarts)
  std::string dead_letter_stream;          // empty: "<stream>:dead"
  std::chrono::milliseconds claim_idle{60'000};
  std::chrono::milliseconds block{1'000};  // XREADGROUP BLOCK, also the Stop latency
  int batch = 500;                         // entries per read
};

// Counts for /metrics, by outcome: "stored", "duplicate", "dead_letter",
// "claimed" (taken over from another consumer), "deleted" (pending but
// trimmed from the stream), "error" (a read or commit that will be retried).
using BusObserver = std::function<void(std::string_view outcome, std::int64_t n)>;

class BusConsumer {
 public:
  // Connects, creates the group (reading from the stream's start) when
  // missing, and starts the thread. unavailable when Redis cannot be reached.
  static core::Result<std::unique_ptr<BusConsumer>> Start(BusOptions options, Pipeline& pipeline,
                                                          const model::PriceTable& prices,
                                                          BusObserver observer = {});
  ~BusConsumer();
  BusConsumer(const BusConsumer&) = delete;
  BusConsumer& operator=(const BusConsumer&) = delete;

  void Stop();
  const BusOptions& options() const { return options_; }

 private:
  BusConsumer(BusOptions options, Pipeline& pipeline, const model::PriceTable& prices,
              BusObserver observer, std::unique_ptr<live::redis::RedisConnection> redis);
  struct Impl;
  void Run();
  void Count(std::string_view outcome, std::int64_t n) const;
  bool WaitFor(std::chrono::milliseconds d);  // false when stopping

  BusOptions options_;
  Pipeline& pipeline_;
  const model::PriceTable& prices_;
  BusObserver observer_;
  std::unique_ptr<live::redis::RedisConnection> redis_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tally::ingest::bus
