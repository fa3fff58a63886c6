// BudgetEnforcer over the memory backend and a real SQLite store: the order
// of denials, estimates from the price table, runaway auto-pause, kill
// switches persisted and audited.
#include "live/budget_enforcer.h"

#include <gtest/gtest.h>

#include "live_test_util.h"
#include "store/sqlite/sqlite_store.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::live {
namespace {

using namespace std::chrono_literals;
using testing::At;
using testing::Spend;

class BudgetEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    PutAgent("kev", 10'000'000);
    PutAgent("free", std::nullopt);
    options_.runaway = RunawayPolicy{true, 0, 3, 100'000};
    Restart();
  }
  void Restart() {
    live_ = std::make_unique<MemoryAccumulators>(clock_, core::BusinessCalendar::Utc());
    ASSERT_TRUE(live_->Rebuild(*store_));
    enforcer_ = std::make_unique<BudgetEnforcer>(*live_, *store_, prices_, clock_, options_);
    ASSERT_TRUE(enforcer_->Init());
  }
  void PutAgent(const std::string& id, std::optional<std::int64_t> budget) {
    model::Agent a;
    a.id = id;
    a.role = "builder";
    if (budget) a.daily_budget = core::Money::FromMicros(*budget);
    a.created_at = clock_.Now();
    ASSERT_TRUE(store_->PutAgent(a));
  }
  void Ingest(std::vector<model::Event> events) {
    model::Batch b{"test", std::move(events)};
    std::vector<const model::Batch*> batches{&b};
    auto stats = store_->Append(batches);
    ASSERT_TRUE(stats);
    ASSERT_TRUE(live_->Apply(NewlyStored(batches, *stats)));
  }
  Decision Check(const std::string& agent, std::int64_t estimate_micros, bool reserve = true) {
    CheckRequest r;
    r.agent_id = agent;
    r.estimated_cost = core::Money::FromMicros(estimate_micros);
    r.reserve = reserve;
    auto d = enforcer_->Check(r);
    EXPECT_TRUE(d) << d.error().ToString();
    return d.value_or(Decision{});
  }

  ::tally::testing::TempDir dir_;
  ::tally::testing::SimulatedClock clock_{At("2026-03-10T12:00:30Z")};
  std::unique_ptr<store::SqliteStore> store_;
  model::PriceTable prices_ = model::PriceTable::Defaults();
  BudgetOptions options_;
  std::unique_ptr<MemoryAccumulators> live_;
  std::unique_ptr<BudgetEnforcer> enforcer_;
};

TEST_F(BudgetEnforcerTest, AllowsWithinBudgetAndReportsTheNumbers) {
  Ingest({Spend("a", "kev", clock_.Now() - 2h, 7'000'000)});
  Decision d = Check("kev", 1'000'000);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.reservation_id.empty());
  EXPECT_EQ(d.spent.micros(), 7'000'000);
  EXPECT_EQ(d.reserved.micros(), 1'000'000);
  EXPECT_EQ(d.limit->micros(), 10'000'000);
  EXPECT_EQ(d.remaining->micros(), 2'000'000);
  EXPECT_TRUE(d.warning);  // 80% used with the reservation
}

TEST_F(BudgetEnforcerTest, DeniesWhenReservationWouldExceedRemaining) {
  Ingest({Spend("a", "kev", clock_.Now() - 2h, 9'900'000)});
  Decision d = Check("kev", 100'001);
  EXPECT_FALSE(d.allowed);
  EXPECT_STREQ(DenyReasonName(d.reason), "budget_exceeded");
  EXPECT_TRUE(d.reservation_id.empty());
  EXPECT_TRUE(Check("kev", 100'000).allowed);
}

TEST_F(BudgetEnforcerTest, SettledCallFreesTheEstimate) {
  Decision d = Check("kev", 9'000'000);
  ASSERT_TRUE(d.allowed);
  EXPECT_FALSE(Check("kev", 2'000'000).allowed);
  Ingest({Spend("call", "kev", clock_.Now(), 500'000, false, d.reservation_id)});
  Decision after = Check("kev", 2'000'000);
  EXPECT_TRUE(after.allowed);
  EXPECT_EQ(after.spent.micros(), 500'000);
  EXPECT_EQ(after.reserved.micros(), 2'000'000);
}

TEST_F(BudgetEnforcerTest, NoBudgetIsUnlimitedButStillRunawayChecked) {
  Decision d = Check("free", 1'000'000'000);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.limit);
  Ingest({Spend("burst", "free", clock_.Now(), 5'000'000)});  // $1/min with nothing before
  d = Check("free", 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_STREQ(DenyReasonName(d.reason), "runaway_detected");
}

TEST_F(BudgetEnforcerTest, RunawayPausesTheAgentPersistentlyUntilResumed) {
  Ingest({Spend("burst", "kev", clock_.Now(), 3'000'000)});
  EXPECT_EQ(Check("kev", 1).reason, DenyReason::kRunawayDetected);
  EXPECT_EQ(store_->GetAgent("kev")->status, "paused");
  auto audit = store_->Query("SELECT actor, action, target FROM audit_log");
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(audit->rows[0][0]), "tally:runaway");
  EXPECT_EQ(Check("kev", 1).reason, DenyReason::kAgentPaused);
  Restart();
  EXPECT_EQ(Check("kev", 1).reason, DenyReason::kAgentPaused);
  ASSERT_TRUE(enforcer_->SetPaused("kev", false, "checked: a big refactor", "key_admin"));
  // The burst that tripped it does not trip it again straight away.
  EXPECT_TRUE(Check("kev", 1).allowed);
  EXPECT_EQ(store_->GetAgent("kev")->status, "active");
}

TEST_F(BudgetEnforcerTest, FactoryPauseDeniesEveryAgentAndSurvivesARestart) {
  ASSERT_TRUE(enforcer_->SetPaused("factory", true, "incident 42", "key_admin"));
  EXPECT_EQ(Check("kev", 1).reason, DenyReason::kFactoryPaused);
  EXPECT_EQ(Check("free", 1).reason, DenyReason::kFactoryPaused);
  Restart();
  EXPECT_EQ(Check("kev", 1).reason, DenyReason::kFactoryPaused);
  EXPECT_EQ(enforcer_->Factory().reason, "incident 42");
  ASSERT_TRUE(enforcer_->SetPaused("factory", false, "resolved", "key_admin"));
  EXPECT_TRUE(Check("kev", 1).allowed);
}

TEST_F(BudgetEnforcerTest, PausingAnUnknownAgentIsNotFound) {
  auto s = enforcer_->SetPaused("ghost", true, "", "key_admin");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), core::ErrorCode::kNotFound);
}

TEST_F(BudgetEnforcerTest, ModelEstimateIsTheWorstCaseCappedAtTheModelsMaxOutput) {
  const model::ModelPrice* p = prices_.Find("gpt-4o");
  ASSERT_NE(p, nullptr);
  CheckRequest r;
  r.agent_id = "free";
  r.model = "gpt-4o";
  r.input_tokens = 1'000;
  r.max_tokens = 1'000'000'000;
  auto d = enforcer_->Check(r);
  ASSERT_TRUE(d) << d.error().ToString();
  std::int64_t out = p->max_output_tokens.value_or(1'000'000'000);
  EXPECT_EQ(d->estimate, *prices_.Cost("gpt-4o", 1'000, out, 0));
}

TEST_F(BudgetEnforcerTest, UnknownModelIsRefusedOrPricedAtTheFallbackNeverAtZero) {
  CheckRequest r;
  r.agent_id = "kev";
  r.model = "mystery-model-9000";
  r.input_tokens = 1'000'000;
  r.max_tokens = 1'000'000;
  auto d = enforcer_->Check(r);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allowed);
  EXPECT_STREQ(DenyReasonName(d->reason), "unknown_model");
  options_.unknown_model_per_mtok = 2'000'000;  // $2 per million tokens
  Restart();
  d = enforcer_->Check(r);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allowed);
  EXPECT_EQ(d->estimate.micros(), 4'000'000);
}

TEST_F(BudgetEnforcerTest, ABadRequestIsAnErrorNamingTheField) {
  CheckRequest r;
  r.agent_id = "kev";
  auto d = enforcer_->Check(r);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("estimated_cost_usd"), std::string::npos);
  r.estimated_cost = core::Money::FromMicros(-1);
  EXPECT_EQ(enforcer_->Check(r).error().code(), core::ErrorCode::kInvalidArgument);
}

TEST_F(BudgetEnforcerTest, BudgetResetsAtTheNextBusinessDay) {
  Ingest({Spend("a", "kev", clock_.Now(), 10'000'000)});
  options_.runaway.enabled = false;
  Restart();
  EXPECT_EQ(Check("kev", 0).reason, DenyReason::kBudgetExceeded);
  clock_.Set(At("2026-03-10T23:59:59Z"));
  EXPECT_EQ(Check("kev", 0).reason, DenyReason::kBudgetExceeded);
  clock_.Advance(1s);
  EXPECT_TRUE(Check("kev", 0).allowed);
}

TEST_F(BudgetEnforcerTest, ConfigIsParsedExactlyAndZeroFallbackIsRefused) {
  core::Config c;
  c.budget_runaway_usd_per_min = "2.5";
  auto o = BudgetOptionsFromConfig(c);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->runaway.absolute_per_min, 2'500'000);
  c.budget_unknown_model_usd_per_mtok = "0";
  EXPECT_FALSE(BudgetOptionsFromConfig(c));
  c.budget_unknown_model_usd_per_mtok = "abc";
  auto bad = BudgetOptionsFromConfig(c);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("abc"), std::string::npos);
}

}  // namespace
}  // namespace tally::live
