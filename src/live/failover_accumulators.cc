#include "live/failover_accumulators.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tally::live {

core::Result<RedisDownPolicy> ParseRedisDownPolicy(std::string_view text) {
  if (text == "shadow") return RedisDownPolicy::kShadow;
  if (text == "deny") return RedisDownPolicy::kDeny;
  if (text == "allow") return RedisDownPolicy::kAllow;
  return std::unexpected(core::Error::InvalidArgument(
      fmt::format("live.redis_down_policy = '{}': expected shadow, deny or allow", text)));
}

const char* RedisDownPolicyName(RedisDownPolicy p) {
  switch (p) {
    case RedisDownPolicy::kShadow: return "shadow";
    case RedisDownPolicy::kDeny: return "deny";
    case RedisDownPolicy::kAllow: return "allow";
  }
  return "";
}

FailoverAccumulators::FailoverAccumulators(Connect connect, store::Store& store, const core::Clock& clock,
                                           core::BusinessCalendar calendar, FailoverOptions options)
    : connect_(std::move(connect)),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      shadow_(clock, std::move(calendar)),
      backoff_(options_.backoff_initial) {
  next_attempt_ = clock_.Now() + backoff_;
  auto made = connect_();
  if (!made) {
    spdlog::warn("live counters: redis unavailable at start ({}); checks follow redis_down_policy = {}",
                 made.error().message(), RedisDownPolicyName(options_.policy));
    failed_attempts_.fetch_add(1);
    return;
  }
  primary_ = std::move(*made);
  primary_raw_ = primary_.get();
  // Up at once: the caller rebuilds (Rebuild) before serving, as for any backend.
  state_.store(State::kUp);
}

Accumulators* FailoverAccumulators::Primary() {
  if (state_.load(std::memory_order_acquire) == State::kUp) return primary_raw_;  // stable once set
  TryReconnect();
  return state_.load(std::memory_order_acquire) == State::kUp ? primary_raw_ : nullptr;
}

void FailoverAccumulators::Failed(const core::Error& e) {
  if (e.code() != core::ErrorCode::kUnavailable) return;
  State up = State::kUp;
  if (!state_.compare_exchange_strong(up, State::kDown)) return;
  spdlog::warn("live counters: redis unavailable ({}); degraded, checks follow redis_down_policy = {}",
               e.message(), RedisDownPolicyName(options_.policy));
  std::lock_guard lock(mu_);
  backoff_ = options_.backoff_initial;
  next_attempt_ = clock_.Now() + backoff_;
}

void FailoverAccumulators::TryReconnect() {
  if (state_.load() != State::kDown) return;
  Accumulators* primary = nullptr;
  {
    std::lock_guard lock(mu_);
    core::Timestamp now = clock_.Now();
    if (attempting_ || now < next_attempt_) return;
    attempting_ = true;
    backoff_ = std::min(backoff_ * 2, options_.backoff_max);
    next_attempt_ = now + backoff_;
    primary = primary_raw_;
  }
  core::Status ok = core::OkStatus();
  if (primary == nullptr) {
    auto made = connect_();
    if (made) {
      std::lock_guard lock(mu_);
      primary_ = std::move(*made);
      primary_raw_ = primary_.get();
      primary = primary_raw_;
    } else {
      ok = std::unexpected(made.error());
    }
  } else {
    ok = primary->Ping();
  }
  {
    std::lock_guard lock(mu_);
    attempting_ = false;
    if (!ok) {
      failed_attempts_.fetch_add(1);
      spdlog::debug("live counters: redis still unavailable: {}", ok.error().message());
      return;
    }
    state_.store(State::kReconciling);
  }
  if (options_.run_serialized) {
    if (!options_.run_serialized([this] { Reconcile(); })) state_.store(State::kDown);
  } else {
    Reconcile();
  }
}

void FailoverAccumulators::Reconcile() {
  auto s = primary_raw_->Rebuild(store_);
  if (!s) {
    failed_attempts_.fetch_add(1);
    spdlog::warn("live counters: reconciling redis failed ({}); still degraded", s.error().message());
    state_.store(State::kDown);
    return;
  }
  {
    std::lock_guard lock(mu_);
    backoff_ = options_.backoff_initial;
  }
  state_.store(State::kUp, std::memory_order_release);
  spdlog::info("live counters: redis is back; counters rebuilt from the store, no longer degraded");
}

core::Status FailoverAccumulators::Apply(std::span<const model::Event* const> events) {
  (void)shadow_.Apply(events);  // never fails
  if (Accumulators* p = Primary()) {
    // Lost here, the events are recounted by the reconciliation's rebuild.
    if (auto s = p->Apply(events); !s) Failed(s.error());
  }
  return core::OkStatus();
}

core::Status FailoverAccumulators::Rebuild(store::Store& store) {
  TALLY_RETURN_IF_ERROR(shadow_.Rebuild(store));
  if (Accumulators* p = Primary()) {
    auto s = p->Rebuild(store);
    if (!s && s.error().code() != core::ErrorCode::kUnavailable) return s;
    if (!s) Failed(s.error());
  }
  return core::OkStatus();
}

core::Result<LiveSnapshot> FailoverAccumulators::Snapshot() {
  if (Accumulators* p = Primary()) {
    auto r = p->Snapshot();
    if (r || r.error().code() != core::ErrorCode::kUnavailable) return r;
    Failed(r.error());
  }
  auto snap = shadow_.Snapshot();
  if (snap) snap->degraded = true;
  return snap;
}

core::Result<AgentCounters> FailoverAccumulators::Agent(const std::string& agent_id) {
  if (Accumulators* p = Primary()) {
    auto r = p->Agent(agent_id);
    if (r || r.error().code() != core::ErrorCode::kUnavailable) return r;
    Failed(r.error());
  }
  return shadow_.Agent(agent_id);
}

core::Result<ReserveResult> FailoverAccumulators::CheckAndReserve(const ReserveRequest& request) {
  if (Accumulators* p = Primary()) {
    auto r = p->CheckAndReserve(request);
    if (r || r.error().code() != core::ErrorCode::kUnavailable) return r;
    Failed(r.error());
  }
  if (options_.policy == RedisDownPolicy::kShadow) {
    auto r = shadow_.CheckAndReserve(request);
    if (r) r->degraded = true;
    return r;
  }
  // deny / allow: no reservation anywhere; the counters shown are the shadow's.
  AgentCounters c = TALLY_TRY(shadow_.Agent(request.agent_id));
  ReserveResult out;
  out.degraded = true;
  out.spent = c.spend_today;
  out.reserved_total = c.reserved;
  out.velocity_per_min = c.velocity_per_min;
  out.hourly_avg_per_min = c.spend_1h / 60;
  if (request.pause != LocalPause::kNone) {
    out.verdict = request.pause == LocalPause::kFactory ? Verdict::kFactoryPaused : Verdict::kAgentPaused;
  } else {
    out.verdict = options_.policy == RedisDownPolicy::kDeny ? Verdict::kUnavailable : Verdict::kAllowed;
  }
  return out;
}

core::Status FailoverAccumulators::Release(const std::string& reservation_id) {
  (void)shadow_.Release(reservation_id);
  if (Accumulators* p = Primary()) {
    if (auto s = p->Release(reservation_id); !s) Failed(s.error());
  }
  return core::OkStatus();
}

core::Status FailoverAccumulators::SetPause(const std::string& target, bool paused) {
  if (Accumulators* p = Primary()) {
    auto s = p->SetPause(target, paused);
    if (!s) Failed(s.error());
    return s;
  }
  return core::OkStatus();  // the reconciliation copies the switches from the store
}

core::Status FailoverAccumulators::Ping() {
  if (Accumulators* p = Primary()) return p->Ping();
  return std::unexpected(core::Error::Unavailable("live counters: redis unavailable (degraded)"));
}

}  // namespace tally::live
