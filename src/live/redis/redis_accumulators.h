// RedisAccumulators: the live counters and budget reservations in Redis,
// shared by every tally node that points at the same server (seed §4 key
// names under a configurable prefix, default "dash"; docs/redis-keys.md).
//
// Same contract as MemoryAccumulators (tests/unit/live: one TEST_P suite runs
// on both). Every operation is one round trip: a single Lua script (loaded
// with SCRIPT LOAD, called with EVALSHA, EVAL on NOSCRIPT) holding every
// read-modify-write, so check-and-reserve is atomic across nodes (Redis runs
// one script at a time). Money is integer micro-USD (HINCRBY), never floats.
//
// Time comes from the injected Clock and is passed to the script (never the
// Redis server's clock): windows are per-minute buckets (a hash per agent,
// fields = minutes since the epoch) read relative to the caller's now, so a
// simulated clock works and nodes agree as long as their clocks do. Key TTLs
// only collect garbage; correctness never depends on them. The seed key names
// (dash:spend:daily:{agent_id}, ...) hold the current values as plain
// integers, refreshed by every script that touches the agent or product.
//
// Reserved per agent is a running total (resv:sum) kept by every script that
// adds or drops a hold, so a check costs the same with any number open. The
// kill switches are the hash P:pause, read by the check script (a pause
// through any node denies the next check on every node; the request's
// LocalPause hint is ignored here) and copied from the store by Rebuild.
//
// Not Redis Cluster-ready: scripts touch keys they compute (one server or a
// primary with replicas).
// Thread-safety: every method may be called concurrently (a connection pool).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "live/accumulators.h"
#include "core/business_calendar.h"
#include "live/redis/redis_connection.h"

namespace tally::live::redis {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379/0";
  std::string prefix = "dash";
  int pool_size = 8;
};

class RedisAccumulators final : public Accumulators {
 public:
  // Connects and loads the script: unavailable when Redis cannot be reached,
  // invalid_argument for a bad URL or an empty prefix. clock must outlive the
  // object.
  static core::Result<std::unique_ptr<RedisAccumulators>> Create(const core::Clock& clock,
                                                                 core::BusinessCalendar calendar,
                                                                 RedisOptions options);

  core::Status Apply(std::span<const model::Event* const> events) override;
  // Replaces every counter under the prefix, in one script, by the values
  // recomputed from the store (never added to what is there); reservations
  // are kept.
  core::Status Rebuild(store::Store& store) override;
  // Seeds the counters from the store only when this prefix is cold: the
  // marker {prefix}:meta:seeded is taken with SET NX, so of any number of
  // nodes starting together exactly one seeds, once; a warm Redis is left
  // as it is. Returns whether this call seeded.
  core::Result<bool> SeedIfCold(store::Store& store);

  core::Result<LiveSnapshot> Snapshot() override;
  core::Result<AgentCounters> Agent(const std::string& agent_id) override;
  core::Result<ReserveResult> CheckAndReserve(const ReserveRequest& request) override;
  core::Status Release(const std::string& reservation_id) override;
  // P:pause (field "factory" or "agent:{id}"), read by every check's script.
  core::Status SetPause(const std::string& target, bool paused) override;
  core::Status Ping() override;

  const std::string& prefix() const { return options_.prefix; }

 private:
  RedisAccumulators(const core::Clock& clock, core::BusinessCalendar calendar, RedisOptions options,
                    std::unique_ptr<RedisConnection> conn, std::string sha)
      : clock_(clock), calendar_(std::move(calendar)), options_(std::move(options)),
        conn_(std::move(conn)), sha_(std::move(sha)) {}
  core::Result<Reply> Eval(const std::string& op, std::vector<std::string> args);
  // The script's common arguments: op, prefix, now (us), now minute, today's
  // and this month's start (us).
  std::vector<std::string> Head(const std::string& op, core::Timestamp now);

  const core::Clock& clock_;
  const core::BusinessCalendar calendar_;
  const RedisOptions options_;
  std::unique_ptr<RedisConnection> conn_;
  const std::string sha_;
};

}  // namespace tally::live::redis
