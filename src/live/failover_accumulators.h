// FailoverAccumulators: the Redis backend with this node's in-process
// counters behind it, for when Redis is down (issue #3 item 6).
//
// Every committed event is applied to the shadow (a MemoryAccumulators,
// rebuilt from the store at start like the primary), so the shadow always
// holds what this node has seen. While Redis answers, everything goes to it.
// The first call that finds Redis unreachable turns the node degraded:
//  - checks follow [live] redis_down_policy: shadow (default; the shadow
//    answers and reserves), deny (reason live_unavailable) or allow (no
//    reservation); every answer is flagged degraded;
//  - counters (Agent, Snapshot) come from the shadow, flagged degraded;
//  - committed events go to the shadow only.
// Reconnection: a call at or after the next attempt time pings Redis; the
// delay between attempts doubles from backoff_initial up to backoff_max
// (read from the injected Clock, never slept). When Redis answers, the
// counters are reconciled: the primary is rebuilt from the store
// (authoritative overwrite, kill switches included), so events committed
// during the outage count once and those Redis saw before it are not added
// again. The rebuild runs through run_serialized, which must run it where no
// Apply runs concurrently and after every earlier commit was applied (serve:
// on the ingest pipeline's writer thread); only then do calls use Redis again.
// Exact for this node's commits; another node's commit racing the rebuild's
// read may be off until the next rebuild (Accumulators::Rebuild).
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "live/accumulators.h"
#include "core/business_calendar.h"
#include "live/memory/memory_accumulators.h"

namespace tally::live {

enum class RedisDownPolicy { kShadow, kDeny, kAllow };
// "shadow", "deny" or "allow"; invalid_argument naming live.redis_down_policy.
core::Result<RedisDownPolicy> ParseRedisDownPolicy(std::string_view text);
const char* RedisDownPolicyName(RedisDownPolicy p);

struct FailoverOptions {
  RedisDownPolicy policy = RedisDownPolicy::kShadow;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  // Runs the reconciliation (see above), now or later; false when it could
  // not be scheduled (the node stays degraded and tries again). Empty: runs
  // it inline.
  std::function<bool(std::function<void()>)> run_serialized;
};

class FailoverAccumulators final : public Accumulators {
 public:
  // Opens the primary; called again at each reconnection attempt while it
  // has never succeeded (Redis down at start).
  using Connect = std::function<core::Result<std::unique_ptr<Accumulators>>()>;

  // Tries connect once: a Redis down at start leaves the node degraded, never
  // fails. store, clock and calendar must outlive the object.
  FailoverAccumulators(Connect connect, store::Store& store, const core::Clock& clock,
                       core::BusinessCalendar calendar, FailoverOptions options);

  core::Status Apply(std::span<const model::Event* const> events) override;
  // The shadow, and the primary when up. A primary that is down is not an
  // error here: it is rebuilt when it comes back.
  core::Status Rebuild(store::Store& store) override;
  core::Result<LiveSnapshot> Snapshot() override;
  core::Result<AgentCounters> Agent(const std::string& agent_id) override;
  core::Result<ReserveResult> CheckAndReserve(const ReserveRequest& request) override;
  core::Status Release(const std::string& reservation_id) override;
  core::Status SetPause(const std::string& target, bool paused) override;
  core::Status Ping() override;
  bool degraded() const override { return state_.load() != State::kUp; }

  // Reconnection attempts so far that failed (tests, metrics).
  std::int64_t failed_attempts() const { return failed_attempts_.load(); }

 private:
  enum class State { kUp, kDown, kReconciling };
  // The primary when up, else nullptr (and a reconnection attempt when due).
  Accumulators* Primary();
  // Called with the error of a primary call: unavailable marks the node down.
  void Failed(const core::Error& e);
  void TryReconnect();
  void Reconcile();

  Connect connect_;
  store::Store& store_;
  const core::Clock& clock_;
  const FailoverOptions options_;
  MemoryAccumulators shadow_;
  std::atomic<State> state_{State::kDown};
  std::atomic<std::int64_t> failed_attempts_{0};

  std::mutex mu_;
  std::unique_ptr<Accumulators> primary_;  // set once, under mu_
  Accumulators* primary_raw_ = nullptr;    // guarded by mu_ until set; stable after
  core::Timestamp next_attempt_;           // guarded by mu_
  std::chrono::milliseconds backoff_;      // guarded by mu_
  bool attempting_ = false;                // guarded by mu_
};

}  // namespace tally::live
