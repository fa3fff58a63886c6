// Redis down (issue #3 item 6): a real redis-server is killed mid-run and
// restarted on the same port (empty, as after a crash without persistence).
// For each redis_down_policy: checks follow the policy and are flagged
// degraded, reconnection follows the backoff on the injected clock, and after
// the reconciliation the counters equal the store's: nothing lost, nothing
// counted twice (even when another node had already refilled Redis).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "live/failover_accumulators.h"
#include "live_test_util.h"
#include "store/sqlite/sqlite_store.h"
#include "support/redis_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::live {
namespace {

using namespace std::chrono_literals;
using testing::At;
using testing::Spend;

class FailoverTest : public ::testing::TestWithParam<RedisDownPolicy> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
  }
  FailoverAccumulators::Connect Connector() {
    return [this]() -> core::Result<std::unique_ptr<Accumulators>> {
      redis::RedisOptions o;
      o.url = server_.url();
      auto made = redis::RedisAccumulators::Create(clock_, core::BusinessCalendar::Utc(), o);
      if (!made) return std::unexpected(made.error());
      return std::unique_ptr<Accumulators>(std::move(*made));
    };
  }
  std::unique_ptr<FailoverAccumulators> Make() {
    FailoverOptions o;
    o.policy = GetParam();
    o.backoff_initial = 500ms;
    o.backoff_max = 4s;
    return std::make_unique<FailoverAccumulators>(Connector(), *store_, clock_, core::BusinessCalendar::Utc(), o);
  }
  // Commits the event to the store, then applies it (as the pipeline does).
  void Commit(Accumulators& live, model::Event e) {
    batches_.push_back(std::make_unique<model::Batch>(model::Batch{"test", {std::move(e)}}));
    std::vector<const model::Batch*> b{batches_.back().get()};
    ASSERT_TRUE(store_->Append(b));
    ASSERT_TRUE(testing::ApplyEvents(live, {batches_.back()->events[0]}));
  }
  core::Result<ReserveResult> Check(Accumulators& live, std::int64_t estimate, const std::string& rid) {
    ReserveRequest r{"kev", estimate, 10'000'000, true, rid, clock_.Now() + 5min, {}};
    r.runaway.enabled = false;  // every call here is a burst; the budget is what is tested
    return live.CheckAndReserve(r);
  }

  ::tally::testing::RedisServer server_;
  ::tally::testing::TempDir dir_;
  ::tally::testing::SimulatedClock clock_{At("2026-03-10T12:00:30Z")};
  std::unique_ptr<store::SqliteStore> store_;
  std::vector<std::unique_ptr<model::Batch>> batches_;
};

TEST_P(FailoverTest, RedisKilledMidRunFollowsThePolicyThenReconcilesExactly) {
  auto live = Make();
  ASSERT_FALSE(live->degraded());
  ASSERT_TRUE(live->Rebuild(*store_));
  Commit(*live, Spend("e1", "kev", clock_.Now(), 1'000'000));
  auto up = Check(*live, 200'000, "r1");
  ASSERT_TRUE(up) << up.error().ToString();
  EXPECT_EQ(up->verdict, Verdict::kAllowed);
  EXPECT_FALSE(up->degraded);
  EXPECT_EQ(up->spent, 1'000'000);

  server_.Stop();  // SIGKILL mid-run
  clock_.Advance(1s);
  // The commit still lands in the store; Redis cannot take it: degraded.
  Commit(*live, Spend("e2", "kev", clock_.Now(), 250'000, false, "r1"));
  EXPECT_TRUE(live->degraded());

  auto down = Check(*live, 300'000, "r2");
  ASSERT_TRUE(down) << down.error().ToString();
  EXPECT_TRUE(down->degraded);
  EXPECT_EQ(down->spent, 1'250'000);  // this node's counters: both events
  switch (GetParam()) {
    case RedisDownPolicy::kShadow:
      EXPECT_EQ(down->verdict, Verdict::kAllowed);
      EXPECT_TRUE(down->reserved);
      EXPECT_EQ(down->reserved_total, 300'000);
      break;
    case RedisDownPolicy::kDeny:
      EXPECT_EQ(down->verdict, Verdict::kUnavailable);
      EXPECT_FALSE(down->reserved);
      break;
    case RedisDownPolicy::kAllow:
      EXPECT_EQ(down->verdict, Verdict::kAllowed);
      EXPECT_FALSE(down->reserved);
      break;
  }
  // Counters are this node's too, flagged.
  auto snap = live->Snapshot();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->degraded);
  // The shadow still enforces the budget (shadow policy).
  if (GetParam() == RedisDownPolicy::kShadow) {
    auto over = Check(*live, 9'000'000, "r3");
    ASSERT_TRUE(over);
    EXPECT_EQ(over->verdict, Verdict::kBudgetExceeded);
  }

  // Backoff on the injected clock: first attempt 500 ms after the failure,
  // then 1 s, 2 s ... (the failure was at +1 s).
  std::int64_t attempts = live->failed_attempts();
  clock_.Advance(600ms);
  ASSERT_TRUE(Check(*live, 0, "p1"));
  EXPECT_EQ(live->failed_attempts(), attempts + 1);
  clock_.Advance(500ms);
  ASSERT_TRUE(Check(*live, 0, "p2"));
  EXPECT_EQ(live->failed_attempts(), attempts + 1);  // not due yet
  clock_.Advance(600ms);
  ASSERT_TRUE(Check(*live, 0, "p3"));
  EXPECT_EQ(live->failed_attempts(), attempts + 2);

  // Another commit during the outage.
  Commit(*live, Spend("e3", "kev", clock_.Now(), 500'000));
  ASSERT_TRUE(server_.Restart());
  // Another node refills the restarted Redis from the store first, and
  // counts one more call: the reconciliation must neither add to that nor
  // lose it.
  {
    redis::RedisOptions o;
    o.url = server_.url();
    auto other = redis::RedisAccumulators::Create(clock_, core::BusinessCalendar::Utc(), o);
    ASSERT_TRUE(other) << other.error().ToString();
    ASSERT_TRUE((*other)->Rebuild(*store_));
    Commit(**other, Spend("e4", "kev", clock_.Now(), 50'000));
  }
  ASSERT_TRUE(Check(*live, 0, "p4"));
  EXPECT_TRUE(live->degraded());  // the next attempt is not due yet
  clock_.Advance(2500ms);
  auto back = Check(*live, 100'000, "r4");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_FALSE(live->degraded());
  EXPECT_FALSE(back->degraded);
  EXPECT_EQ(back->verdict, Verdict::kAllowed);
  // e1 + e2 + e3 + e4, each once.
  EXPECT_EQ(back->spent, 1'800'000);
  EXPECT_EQ(back->reserved_total, 100'000);  // r4 only: shadow reservations stay local
  auto counters = live->Agent("kev");
  ASSERT_TRUE(counters);
  EXPECT_EQ(counters->spend_today, 1'800'000);
  EXPECT_EQ(counters->spend_1h, 1'800'000);
  // Back to Redis for new commits.
  Commit(*live, Spend("e5", "kev", clock_.Now(), 1'000));
  EXPECT_EQ(live->Agent("kev")->spend_today, 1'801'000);
}

TEST_P(FailoverTest, RedisDownAtStartStartsDegradedAndComesUpLater) {
  MemoryAccumulators elsewhere(clock_, core::BusinessCalendar::Utc());  // committed by an earlier run
  Commit(elsewhere, Spend("e1", "kev", clock_.Now(), 700'000));
  server_.Stop();
  auto live = Make();
  EXPECT_TRUE(live->degraded());
  ASSERT_TRUE(live->Rebuild(*store_));  // the shadow, from the store
  auto down = Check(*live, 0, "r1");
  ASSERT_TRUE(down);
  EXPECT_TRUE(down->degraded);
  EXPECT_EQ(down->spent, 700'000);
  ASSERT_TRUE(server_.Restart());
  clock_.Advance(1s);
  auto up = Check(*live, 0, "r2");
  ASSERT_TRUE(up) << up.error().ToString();
  EXPECT_FALSE(up->degraded);
  EXPECT_EQ(up->spent, 700'000);
}

INSTANTIATE_TEST_SUITE_P(Policies, FailoverTest,
                         ::testing::Values(RedisDownPolicy::kShadow, RedisDownPolicy::kDeny,
                                           RedisDownPolicy::kAllow),
                         [](const auto& info) { return std::string(RedisDownPolicyName(info.param)); });

TEST(RedisDownPolicyTest, ParsesTheThreeNamesAndRefusesOthers) {
  EXPECT_EQ(*ParseRedisDownPolicy("shadow"), RedisDownPolicy::kShadow);
  EXPECT_EQ(*ParseRedisDownPolicy("deny"), RedisDownPolicy::kDeny);
  EXPECT_EQ(*ParseRedisDownPolicy("allow"), RedisDownPolicy::kAllow);
  auto bad = ParseRedisDownPolicy("open");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("live.redis_down_policy = 'open'"), std::string::npos);
}

}  // namespace
}  // namespace tally::live
