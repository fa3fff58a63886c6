// The evaluator over a real SQLite store and memory live counters, with a
// simulated clock: the lifecycle (fire once, refresh, resolve), the auto-pause
// through the kill-switch path, and notifications sent once per episode.
#include "alerts/evaluator.h"

#include <gtest/gtest.h>

#include <mutex>

#include "live/budget_enforcer.h"
#include "live/memory/memory_accumulators.h"
#include "store/sqlite/sqlite_store.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::alerts {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Records what it is asked to send (the notifiers themselves are tested
// against real receivers in notifiers_test.cc).
class RecordingNotifier final : public Notifier {
 public:
  explicit RecordingNotifier(std::vector<Notification>* out, std::mutex* mu) : out_(out), mu_(mu) {}
  std::string name() const override { return "recording"; }
  core::Status Send(const Notification& n) override {
    std::lock_guard lock(*mu_);
    out_->push_back(n);
    return core::OkStatus();
  }

 private:
  std::vector<Notification>* out_;
  std::mutex* mu_;
};

store::AlertFilter State(const std::string& state) {
  store::AlertFilter f;
  f.state = state;
  return f;
}

model::Event Call(const std::string& id, const std::string& agent, core::Timestamp t, std::int64_t micros) {
  model::LlmCall c;
  c.event_id = id;
  c.time = t;
  c.agent_id = agent;
  c.model = "gpt-4o";
  c.provider = "openai";
  c.cost_usd = core::Money::FromMicros(micros);
  c.status = model::LlmStatus::kSuccess;
  return c;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  EvaluatorTest()
      : clock_(*core::ParseRfc3339("2026-03-10T14:32:00Z")),
        store_(std::move(*store::SqliteStore::Open(dir_.str()))),
        live_(clock_, *core::BusinessCalendar::Create("UTC")),
        prices_(model::PriceTable::Defaults()),
        budget_(live_, *store_, prices_, clock_, live::BudgetOptions{}) {
    EXPECT_TRUE(budget_.Init());
    model::Agent a;
    a.id = "research-agent";
    a.role = "research";
    a.created_at = clock_.Now() - std::chrono::hours(24 * 30);
    EXPECT_TRUE(store_->PutAgent(a));
    std::vector<std::unique_ptr<Notifier>> notifiers;
    notifiers.push_back(std::make_unique<RecordingNotifier>(&sent_, &sent_mu_));
    dispatcher_ = std::make_unique<Dispatcher>(std::move(notifiers), DispatcherOptions{});
    RuleSet rules = DefaultRuleSet();
    rules.rules["zero_revenue"].values["enabled"] = 0;  // no products here anyway
    evaluator_ = std::make_unique<Evaluator>(
        *store_, live_, clock_, rules,
        [this](const std::string& agent, const std::string& reason) {
          return budget_.SetPaused(agent, true, reason, "tally:alerts");
        },
        nullptr, dispatcher_.get());
  }

  // Stores events and applies them to the live counters, as the pipeline does.
  void Ingest(std::vector<model::Event> events) {
    model::Batch batch{"test", std::move(events)};
    const model::Batch* b = &batch;
    auto stats = store_->Append({&b, 1});
    ASSERT_TRUE(stats) << stats.error().ToString();
    auto fresh = live::NewlyStored({&b, 1}, *stats);
    ASSERT_TRUE(live_.Apply(fresh));
  }

  std::vector<Notification> Sent() {
    while (!dispatcher_->Idle()) std::this_thread::yield();
    std::lock_guard lock(sent_mu_);
    return sent_;
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  live::MemoryAccumulators live_;
  model::PriceTable prices_;
  live::BudgetEnforcer budget_;
  std::mutex sent_mu_;
  std::vector<Notification> sent_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Evaluator> evaluator_;
};

TEST_F(EvaluatorTest, CostSpikeFiresOncePausesTheAgentAndResolvesWhenItCalms) {
  auto now = clock_.Now();
  std::vector<model::Event> events;
  // A steady $0.10/min for the hour, then $12 in the last 5 minutes.
  for (int m = 6; m < 60; ++m) events.push_back(Call("base" + std::to_string(m), "research-agent", now - minutes(m), 100'000));
  for (int m = 0; m < 5; ++m) events.push_back(Call("burst" + std::to_string(m), "research-agent", now - minutes(m), 2'400'000));
  Ingest(std::move(events));

  auto report = evaluator_->RunOnce();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->fired, 1);
  EXPECT_EQ(report->paused, 1);
  auto firing = *store_->ListAlerts(State("firing"));
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].rule, "cost_velocity");
  EXPECT_EQ(firing[0].subject, "agent:research-agent");
  EXPECT_NE(firing[0].message.find("research-agent burning $2.40/min"), std::string::npos) << firing[0].message;
  EXPECT_NE(firing[0].message.find("; paused at 14:32 UTC"), std::string::npos) << firing[0].message;
  EXPECT_EQ(store_->GetAgent("research-agent")->status, "paused");
  auto audit = store_->Query("SELECT actor, action FROM audit_log WHERE target = 'research-agent'");
  ASSERT_EQ(audit->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(audit->rows[0][0]), "tally:alerts");

  // Still tripping a minute later: refreshed, not notified again, not re-paused.
  clock_.Advance(seconds(30));
  report = evaluator_->RunOnce();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->fired, 0);
  EXPECT_EQ(report->refreshed, 1);
  EXPECT_EQ(report->paused, 0);
  EXPECT_EQ(Sent().size(), 1u);

  // Ten quiet minutes later the velocity is zero: resolved, and that is sent.
  clock_.Advance(minutes(10));
  report = evaluator_->RunOnce();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->resolved, 1);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].kind, Notification::Kind::kFiring);
  EXPECT_EQ(sent[1].kind, Notification::Kind::kResolved);
  EXPECT_EQ(store_->ListAlerts(State("firing"))->size(), 0u);
}

TEST_F(EvaluatorTest, SilencedAlertIsStoredButNotNotified) {
  model::Agent a = *store_->GetAgent("research-agent");
  a.daily_budget = core::Money::FromMicros(10'000'000);
  ASSERT_TRUE(store_->PutAgent(a));
  Ingest({Call("c1", "research-agent", clock_.Now() - minutes(90), 8'500'000)});
  ASSERT_TRUE(evaluator_->RunOnce());
  auto firing = *store_->ListAlerts(State("firing"));
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].rule, "budget_warning");
  EXPECT_EQ(firing[0].message, "research-agent at 85% of its daily budget ($8.50 of $10.00)");
  ASSERT_TRUE(store_->SilenceAlert(firing[0].id, clock_.Now() + minutes(60), "test", clock_.Now()));
  // The warning resolves (budget raised) and is not announced; then trips again,
  // still silenced: nothing is sent for either.
  a.daily_budget = core::Money::FromMicros(100'000'000);
  ASSERT_TRUE(store_->PutAgent(a));
  ASSERT_TRUE(evaluator_->RunOnce());
  a.daily_budget = core::Money::FromMicros(10'000'000);
  ASSERT_TRUE(store_->PutAgent(a));
  auto again = evaluator_->RunOnce();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->fired, 1);
  EXPECT_EQ(again->notified, 0);
  EXPECT_EQ(Sent().size(), 1u);  // only the first firing, before the silence
}

TEST_F(EvaluatorTest, BudgetExhaustedPausesThroughTheKillSwitch) {
  model::Agent a = *store_->GetAgent("research-agent");
  a.daily_budget = core::Money::FromMicros(10'000'000);
  ASSERT_TRUE(store_->PutAgent(a));
  Ingest({Call("c1", "research-agent", clock_.Now() - minutes(90), 10'000'000)});
  auto report = evaluator_->RunOnce();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->fired, 2);  // warning (at >= 80%) and exhausted
  EXPECT_EQ(report->paused, 1);
  EXPECT_EQ(store_->GetAgent("research-agent")->status, "paused");
  live::CheckRequest request;
  request.agent_id = "research-agent";
  request.estimated_cost = core::Money::FromMicros(1);
  auto check = budget_.Check(request);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->reason, live::DenyReason::kAgentPaused);
}

}  // namespace
}  // namespace tally::alerts
