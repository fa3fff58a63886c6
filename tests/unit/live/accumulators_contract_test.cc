// The Accumulators contract, run over every backend (TEST_P): windows, the
// business-day reset in a non-UTC zone, late events, reservations (exact
// under concurrency, settled, expired), runaway, rebuild from the store.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "live_test_util.h"
#include "store/sqlite/sqlite_store.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::live {
namespace {

using namespace std::chrono_literals;
using testing::At;
using testing::Revenue;
using testing::Spend;

class AccumulatorsContractTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void Make(const char* zone = "UTC") {
    auto cal = core::BusinessCalendar::Create(zone);
    ASSERT_TRUE(cal) << cal.error().ToString();
    live_ = GetParam().make(clock_, *cal);
  }
  void SetUp() override { Make(); }

  void Apply(std::vector<model::Event> events) { ASSERT_TRUE(testing::ApplyEvents(*live_, events)); }
  AgentCounters Agent(const std::string& id) {
    auto a = live_->Agent(id);
    EXPECT_TRUE(a) << a.error().ToString();
    return *a;
  }
  ReserveRequest Req(std::string id, std::int64_t estimate, std::optional<std::int64_t> limit) {
    ReserveRequest r;
    r.agent_id = "kev";
    r.estimate = estimate;
    r.limit = limit;
    r.reservation_id = std::move(id);
    r.expires_at = clock_.Now() + 5min;
    r.runaway.enabled = false;
    return r;
  }

  ::tally::testing::SimulatedClock clock_{At("2026-03-10T12:00:30Z")};
  std::unique_ptr<Accumulators> live_;
};

TEST_P(AccumulatorsContractTest, RollingHourKeepsACallFor59MinutesAndDropsItAtTheHour) {
  Apply({Spend("a", "kev", clock_.Now(), 1'000)});
  EXPECT_EQ(Agent("kev").spend_1h, 1'000);
  clock_.Advance(59min);  // 12:59:30
  EXPECT_EQ(Agent("kev").spend_1h, 1'000);
  clock_.Advance(1min);  // 13:00:30: the 12:00 minute has left the window
  EXPECT_EQ(Agent("kev").spend_1h, 0);
  EXPECT_EQ(Agent("kev").spend_today, 1'000);
}

TEST_P(AccumulatorsContractTest, ErrorsAndVelocityCoverTheLastFiveMinutes) {
  Apply({Spend("a", "kev", clock_.Now(), 500'000, true), Spend("b", "kev", clock_.Now() - 4min, 500'000, true),
         Spend("c", "kev", clock_.Now() - 5min, 7'000'000, true)});
  AgentCounters c = Agent("kev");
  EXPECT_EQ(c.errors_5m, 2);
  EXPECT_EQ(c.velocity_per_min, 200'000);  // $1.00 over 5 minutes
  EXPECT_EQ(c.spend_1h, 8'000'000);
  clock_.Advance(1min);
  EXPECT_EQ(Agent("kev").errors_5m, 1);
}

TEST_P(AccumulatorsContractTest, SpendTodayResetsAtLocalMidnightOfTheBusinessZone) {
  Make("Asia/Tokyo");  // UTC+9: the business day starts at 15:00Z
  clock_.Set(At("2026-03-10T14:30:00Z"));
  Apply({Spend("a", "kev", clock_.Now(), 2'000)});
  clock_.Advance(29min);  // 14:59Z = 23:59 in Tokyo
  EXPECT_EQ(Agent("kev").spend_today, 2'000);
  clock_.Advance(1min);  // 15:00Z = midnight in Tokyo
  EXPECT_EQ(Agent("kev").spend_today, 0);
  EXPECT_EQ(Agent("kev").spend_1h, 2'000);  // the rolling hour does not reset
}

TEST_P(AccumulatorsContractTest, LateEventCountsInItsOwnDayNotToday) {
  Apply({Spend("late", "kev", At("2026-03-09T23:00:00Z"), 9'000), Spend("now", "kev", clock_.Now(), 1'000),
         Revenue("r-late", "p1", At("2026-03-09T10:00:00Z"), 50'000'000)});
  EXPECT_EQ(Agent("kev").spend_today, 1'000);
  auto snap = live_->Snapshot();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->products.empty());
  EXPECT_EQ(snap->revenue_mtd, 50'000'000);  // but it is in this month
}

TEST_P(AccumulatorsContractTest, RevenueTodayPerProductAndMonthToDateAreNet) {
  Apply({Revenue("r1", "p1", clock_.Now(), 19'990'000), Revenue("r2", "p1", clock_.Now(), -4'990'000),
         Revenue("r3", "p2", clock_.Now(), 5'000'000), Revenue("feb", "p2", At("2026-02-28T12:00:00Z"), 1'000'000)});
  auto snap = live_->Snapshot();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->products.size(), 2u);
  EXPECT_EQ(snap->products[0].product_id, "p1");
  EXPECT_EQ(snap->products[0].revenue_today, 15'000'000);
  EXPECT_EQ(snap->products[1].revenue_today, 5'000'000);
  EXPECT_EQ(snap->revenue_mtd, 20'000'000);
  clock_.Set(At("2026-04-01T00:00:00Z"));
  snap = live_->Snapshot();
  EXPECT_EQ(snap->revenue_mtd, 0);
  EXPECT_TRUE(snap->products.empty());
}

TEST_P(AccumulatorsContractTest, DeniesWhenReservationWouldExceedRemaining) {
  Apply({Spend("a", "kev", clock_.Now(), 9'000'000)});
  auto first = live_->CheckAndReserve(Req("r1", 600'000, 10'000'000));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->verdict, Verdict::kAllowed);
  EXPECT_TRUE(first->reserved);
  EXPECT_EQ(first->reserved_total, 600'000);
  auto second = live_->CheckAndReserve(Req("r2", 400'001, 10'000'000));
  EXPECT_EQ(second->verdict, Verdict::kBudgetExceeded);
  auto exact = live_->CheckAndReserve(Req("r3", 400'000, 10'000'000));
  EXPECT_EQ(exact->verdict, Verdict::kAllowed);
  EXPECT_EQ(Agent("kev").reserved, 1'000'000);
}

TEST_P(AccumulatorsContractTest, SettlingReplacesTheEstimateByTheActualCost) {
  ASSERT_EQ(live_->CheckAndReserve(Req("r1", 500'000, 1'000'000))->verdict, Verdict::kAllowed);
  Apply({Spend("call", "kev", clock_.Now(), 120'000, false, "r1")});
  AgentCounters c = Agent("kev");
  EXPECT_EQ(c.reserved, 0);
  EXPECT_EQ(c.reservations, 0);
  EXPECT_EQ(c.spend_today, 120'000);
  // The freed estimate is available again.
  EXPECT_EQ(live_->CheckAndReserve(Req("r2", 880'000, 1'000'000))->verdict, Verdict::kAllowed);
}

TEST_P(AccumulatorsContractTest, UnsettledReservationExpiresAfterItsTtl) {
  ASSERT_TRUE(live_->CheckAndReserve(Req("r1", 1'000'000, 1'000'000))->reserved);
  EXPECT_EQ(live_->CheckAndReserve(Req("r2", 1, 1'000'000))->verdict, Verdict::kBudgetExceeded);
  clock_.Advance(5min - 1us);
  EXPECT_EQ(Agent("kev").reserved, 1'000'000);
  clock_.Advance(1us);
  EXPECT_EQ(Agent("kev").reserved, 0);
  EXPECT_EQ(live_->CheckAndReserve(Req("r3", 1, 1'000'000))->verdict, Verdict::kAllowed);
}

TEST_P(AccumulatorsContractTest, ReleaseFreesAReservationAndIgnoresUnknownIds) {
  ASSERT_TRUE(live_->CheckAndReserve(Req("r1", 700, std::nullopt))->reserved);
  EXPECT_TRUE(live_->Release("r1"));
  EXPECT_TRUE(live_->Release("never-made"));
  EXPECT_EQ(Agent("kev").reserved, 0);
}

TEST_P(AccumulatorsContractTest, AtTheLimitEvenAZeroEstimateIsRefusedUntilTheNextDay) {
  Apply({Spend("a", "kev", clock_.Now(), 1'000'000)});
  auto check = Req("", 0, 1'000'000);
  check.reserve = false;
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kBudgetExceeded);
  clock_.Set(At("2026-03-11T00:00:00Z"));
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kAllowed);
}

TEST_P(AccumulatorsContractTest, RunawayNeedsVelocityAboveTheFloorAndTheMultiple) {
  auto check = Req("", 0, std::nullopt);
  check.reserve = false;
  check.runaway = RunawayPolicy{true, 0, 3, 100'000};
  // A quiet agent's first calls: 12x its hourly average, but under the floor.
  Apply({Spend("a", "kev", clock_.Now(), 400'000)});
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kAllowed);
  // $0.60/min over 5 minutes with nothing else in the hour: runaway.
  Apply({Spend("b", "kev", clock_.Now(), 2'600'000)});
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kRunaway);
  // The same velocity in a busy hour ($1.03/min average, x3 = $5.15) is normal.
  Apply({Spend("c", "kev", clock_.Now() - 30min, 100'000'000)});
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kAllowed);
  check.runaway.absolute_per_min = 500'000;
  EXPECT_EQ(live_->CheckAndReserve(check)->verdict, Verdict::kRunaway);
}

TEST_P(AccumulatorsContractTest, ConcurrentChecksNeverAdmitMoreThanTheRemainingBudget) {
  Apply({Spend("a", "kev", clock_.Now(), 9'000'000)});  // $1.00 of $10 left
  constexpr int kThreads = 8;
  constexpr int kChecks = 200;
  std::atomic<std::int64_t> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kChecks; ++i) {
        std::int64_t estimate = 10'000 + ((t * 7919 + i * 104729) % 490'001);  // $0.01-$0.50
        auto r = Req(fmt::format("r-{}-{}", t, i), estimate, 10'000'000);
        auto got = live_->CheckAndReserve(r);
        ASSERT_TRUE(got) << got.error().ToString();
        if (got->verdict == Verdict::kAllowed) admitted += estimate;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(admitted.load(), 1'000'000);
  EXPECT_GT(admitted.load(), 500'000);  // it does admit up to the budget, not nothing
  EXPECT_EQ(Agent("kev").reserved, admitted.load());
}

TEST_P(AccumulatorsContractTest, RebuildFromTheStoreEqualsTheCountersBeforeARestart) {
  ::tally::testing::TempDir dir;
  auto store = store::SqliteStore::Open(dir.str());
  ASSERT_TRUE(store) << store.error().ToString();
  model::Batch batch;
  batch.source = "test";
  batch.events = {Spend("a", "kev", clock_.Now(), 1'500, true), Spend("b", "kev", clock_.Now() - 61min, 2'500),
                  Spend("c", "mae", clock_.Now() - 3min, 700), Spend("d", "mae", At("2026-03-09T22:00:00Z"), 99),
                  Revenue("r1", "p1", clock_.Now(), 10'000'000), Revenue("r2", "p1", At("2026-03-02T00:00:00Z"), 5)};
  std::vector<const model::Batch*> batches{&batch};
  auto stats = (*store)->Append(batches);
  ASSERT_TRUE(stats);
  // The same events again: all duplicates, and the counters skip them.
  auto again = (*store)->Append(batches);
  ASSERT_TRUE(again);
  ASSERT_TRUE(live_->Apply(NewlyStored(batches, *stats)));
  ASSERT_TRUE(live_->Apply(NewlyStored(batches, *again)));
  auto before = live_->Snapshot();

  auto cal = core::BusinessCalendar::Utc();
  auto restarted = GetParam().make(clock_, cal);
  ASSERT_TRUE(restarted->Rebuild(**store));
  auto after = restarted->Snapshot();
  ASSERT_TRUE(before && after);
  ASSERT_EQ(after->agents.size(), before->agents.size());
  for (size_t i = 0; i < after->agents.size(); ++i) {
    const auto& x = before->agents[i];
    const auto& y = after->agents[i];
    EXPECT_EQ(y.agent_id, x.agent_id);
    EXPECT_EQ(y.spend_today, x.spend_today) << x.agent_id;
    EXPECT_EQ(y.spend_1h, x.spend_1h) << x.agent_id;
    EXPECT_EQ(y.errors_5m, x.errors_5m) << x.agent_id;
    EXPECT_EQ(y.velocity_per_min, x.velocity_per_min) << x.agent_id;
  }
  EXPECT_EQ(before->agents[0].spend_today, 4'000);  // kev, counted once despite the retry
  ASSERT_EQ(after->products.size(), 1u);
  EXPECT_EQ(after->products[0].revenue_today, 10'000'000);
  EXPECT_EQ(after->revenue_mtd, before->revenue_mtd);
  EXPECT_EQ(after->revenue_mtd, 10'000'005);
}

TEST_P(AccumulatorsContractTest, RunningTotalsCountWhatTheStoreStoredNotTheirTotal) {
  // A refund reported as a growing cumulative total (store/cumulative.h):
  // the counters must move by each stored increase, exactly as a rebuild
  // from the store's rows does.
  ::tally::testing::TempDir dir;
  auto store = store::SqliteStore::Open(dir.str());
  ASSERT_TRUE(store) << store.error().ToString();
  auto refund = [&](std::int64_t cents) {
    auto e = std::get<model::RevenueEvent>(Revenue("o1:" + std::to_string(cents), "p1", clock_.Now(),
                                                   -cents * 10'000));
    e.event_type = model::RevenueEventType::kRefund;
    e.cumulative = model::CumulativeAmount{"o1", core::Money::FromMicros(-cents * 10'000)};
    return model::Event(e);
  };
  for (std::int64_t cents : {1000, 2500, 1000, 5000, 2500}) {
    model::Batch batch{"test", {Revenue("pay-" + std::to_string(cents), "p1", clock_.Now(), 1), refund(cents)}};
    std::vector<const model::Batch*> batches{&batch};
    auto stats = (*store)->Append(batches);
    ASSERT_TRUE(stats) << stats.error().ToString();
    ASSERT_TRUE(live_->Apply(NewlyStored(batches, *stats)));
  }
  auto live = live_->Snapshot();
  ASSERT_TRUE(live);
  ASSERT_EQ(live->products.size(), 1u);
  EXPECT_EQ(live->products[0].revenue_today, 3 - 50'000'000);  // 3 payments of 1 micro-USD
  auto cal = core::BusinessCalendar::Utc();
  auto rebuilt = GetParam().make(clock_, cal);
  ASSERT_TRUE(rebuilt->Rebuild(**store));
  auto after = rebuilt->Snapshot();
  ASSERT_TRUE(after);
  ASSERT_EQ(after->products.size(), 1u);
  EXPECT_EQ(after->products[0].revenue_today, live->products[0].revenue_today);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccumulatorsContractTest, ::testing::ValuesIn(testing::AllBackends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tally::live
