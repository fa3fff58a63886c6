// FaultyStore: wraps a real Store and injects faults into Append, through the
// same interface: fail the next N commits, hold commits at a gate until the
// test opens it (to fill queues deterministically), refuse batches holding a
// chosen event id. Everything else passes through.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "store/store.h"

namespace tally::testing {

class FaultyStore : public store::Store {
 public:
  explicit FaultyStore(store::Store& inner) : inner_(inner) {}

  void FailNextAppends(int n, core::Error error) {
    std::lock_guard l(mu_);
    fail_count_ = n;
    fail_error_.emplace(std::move(error));
  }
  void RefuseEventId(std::string id) {
    std::lock_guard l(mu_);
    refused_id_ = std::move(id);
  }
  // While closed, Append waits (after counting itself as entered).
  void CloseGate() {
    std::lock_guard l(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard l(mu_);
      gate_open_ = true;
    }
    cv_.notify_all();
  }
  // Append calls holding this event id wait (after counting themselves as
  // entered) until ReleaseHeld: one group held while others go through.
  void HoldEventId(std::string id) {
    std::lock_guard l(mu_);
    held_id_ = std::move(id);
  }
  void ReleaseHeld() {
    {
      std::lock_guard l(mu_);
      held_id_.reset();
    }
    cv_.notify_all();
  }
  // Blocks until `n` Append calls have returned from the wrapped store.
  void WaitForReturns(int n) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return appends_returned_ >= n; });
  }
  // Blocks until `n` Append calls have entered.
  void WaitForAppends(int n) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return appends_entered_ >= n; });
  }
  int appends_entered() {
    std::lock_guard l(mu_);
    return appends_entered_;
  }
  std::vector<size_t> batches_per_append() {
    std::lock_guard l(mu_);
    return batches_per_append_;
  }

  core::Status Migrate() override { return inner_.Migrate(); }
  core::Result<std::vector<store::AppendStats>> Append(std::span<const model::Batch* const> batches) override {
    {
      std::unique_lock l(mu_);
      ++appends_entered_;
      batches_per_append_.push_back(batches.size());
      cv_.notify_all();
      cv_.wait(l, [&] { return gate_open_; });
      cv_.wait(l, [&] { return !held_id_ || !Holds(batches, *held_id_); });
      if (fail_count_ > 0) {
        --fail_count_;
        return std::unexpected(*fail_error_);
      }
      if (refused_id_ && Holds(batches, *refused_id_)) {
        return std::unexpected(core::Error::Conflict("refused event " + *refused_id_));
      }
    }
    auto result = inner_.Append(batches);
    {
      std::lock_guard l(mu_);
      ++appends_returned_;
    }
    cv_.notify_all();
    return result;
  }
  core::Result<std::int64_t> CountEvents(model::EventKind k) override { return inner_.CountEvents(k); }
  core::Result<bool> HasEvent(model::EventKind k, const std::string& id) override { return inner_.HasEvent(k, id); }
  core::Status PutProduct(const model::Product& p) override { return inner_.PutProduct(p); }
  core::Result<model::Product> GetProduct(const std::string& id) override { return inner_.GetProduct(id); }
  core::Result<std::vector<model::Product>> ListProducts() override { return inner_.ListProducts(); }
  core::Status PutAgent(const model::Agent& a) override { return inner_.PutAgent(a); }
  core::Result<model::Agent> GetAgent(const std::string& id) override { return inner_.GetAgent(id); }
  core::Result<std::vector<model::Agent>> ListAgents() override { return inner_.ListAgents(); }
  core::Status PutChannel(const model::RevenueChannel& c) override { return inner_.PutChannel(c); }
  core::Result<model::RevenueChannel> GetChannel(const std::string& id) override { return inner_.GetChannel(id); }
  core::Result<std::vector<model::RevenueChannel>> ListChannels() override { return inner_.ListChannels(); }
  core::Status CreateApiKey(const store::ApiKeyRecord& k) override { return inner_.CreateApiKey(k); }
  core::Result<store::ApiKeyRecord> FindApiKeyByHash(const std::string& h) override {
    return inner_.FindApiKeyByHash(h);
  }
  core::Result<std::vector<store::ApiKeyRecord>> ListApiKeys() override { return inner_.ListApiKeys(); }
  core::Status RevokeApiKey(const std::string& id, core::Timestamp when) override {
    return inner_.RevokeApiKey(id, when);
  }
  core::Result<store::QueryResult> Query(const std::string& sql, std::int64_t max_rows) override {
    return inner_.Query(sql, max_rows);
  }
  core::Result<std::vector<store::LlmSpendBucket>> LlmSpendSince(core::Timestamp since,
                                                                 std::chrono::seconds bucket) override {
    return inner_.LlmSpendSince(since, bucket);
  }
  core::Result<std::vector<store::RevenueBucket>> RevenueSince(core::Timestamp since,
                                                               std::chrono::seconds bucket) override {
    return inner_.RevenueSince(since, bucket);
  }
  core::Status SetKillSwitch(const store::KillSwitchChange& c) override { return inner_.SetKillSwitch(c); }
  core::Result<std::optional<store::KillSwitchChange>> GetFactoryKillSwitch() override {
    return inner_.GetFactoryKillSwitch();
  }
  core::Result<std::vector<store::ProductMapping>> ListMappings(const std::string& provider) override {
    return inner_.ListMappings(provider);
  }
  core::Result<store::ParkOutcome> ParkEvent(const store::ParkedEvent& p,
                                             const store::ParkedResolver& resolve) override {
    return inner_.ParkEvent(p, resolve);
  }
  core::Result<std::vector<store::ParkedEvent>> ListParked(bool include_replayed) override {
    return inner_.ListParked(include_replayed);
  }
  core::Result<store::ReplayStats> PutMappingAndReplay(const store::ProductMapping& m,
                                                       const store::ParkedResolver& resolve) override {
    return inner_.PutMappingAndReplay(m, resolve);
  }
  core::Result<store::ReplayStats> ReplayParked(const store::ParkedResolver& resolve,
                                                core::Timestamp now) override {
    return inner_.ReplayParked(resolve, now);
  }
  core::Result<store::RollupSet> ReadRollups(core::Timestamp from, core::Timestamp to,
                                             unsigned kinds) override {
    return inner_.ReadRollups(from, to, kinds);
  }
  core::Status RebuildRollups() override { return inner_.RebuildRollups(); }
  core::Result<std::string> RollupTimeZone() override { return inner_.RollupTimeZone(); }
  core::Status SetRollupTimeZone(const std::string& tz) override { return inner_.SetRollupTimeZone(tz); }
  core::Result<std::vector<store::ProductLifetime>> ProductLifetimes(core::Timestamp to) override {
    return inner_.ProductLifetimes(to);
  }
  core::Result<std::vector<store::SubscriptionEventRow>> ListSubscriptionEvents(
      core::Timestamp to) override {
    return inner_.ListSubscriptionEvents(to);
  }
  core::Result<store::AlertFireOutcome> FireAlert(const store::AlertRecord& alert) override {
    return inner_.FireAlert(alert);
  }
  core::Status ResolveAlert(std::int64_t id, core::Timestamp at) override {
    return inner_.ResolveAlert(id, at);
  }
  core::Result<store::AlertRecord> GetAlert(std::int64_t id) override { return inner_.GetAlert(id); }
  core::Result<std::vector<store::AlertRecord>> ListAlerts(const store::AlertFilter& filter) override {
    return inner_.ListAlerts(filter);
  }
  core::Status AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) override {
    return inner_.AckAlert(id, actor, at);
  }
  core::Status SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                            core::Timestamp at) override {
    return inner_.SilenceAlert(id, until, actor, at);
  }

 private:
  static bool Holds(std::span<const model::Batch* const> batches, const std::string& id) {
    for (const auto* b : batches) {
      for (const auto& e : b->events) {
        if (model::EventIdOf(e) == id) return true;
      }
    }
    return false;
  }

  store::Store& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fail_count_ = 0;
  std::optional<core::Error> fail_error_;
  std::optional<std::string> refused_id_;
  std::optional<std::string> held_id_;
  bool gate_open_ = true;
  int appends_entered_ = 0;
  int appends_returned_ = 0;
  std::vector<size_t> batches_per_append_;
};

}  // namespace tally::testing
