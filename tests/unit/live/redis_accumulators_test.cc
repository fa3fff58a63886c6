// Redis-only behaviour of RedisAccumulators (the shared contract is in
// accumulators_contract_test.cc): the seed §4 key names, FLUSHALL + Rebuild,
// cold seeding with SET NX, two nodes on one server, NOSCRIPT, errors.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "live/redis/redis_accumulators.h"
#include "live_test_util.h"
#include "store/sqlite/sqlite_store.h"
#include "support/redis_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::live {
namespace {

using namespace std::chrono_literals;
using testing::At;
using testing::Revenue;
using testing::Spend;

class RedisAccumulatorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    redis::RedisConnection::Options o;
    o.url = *redis::ParseRedisUrl(server_.url());
    auto c = redis::RedisConnection::Connect(o);
    ASSERT_TRUE(c) << c.error().ToString();
    cli_ = std::move(*c);
  }
  std::unique_ptr<redis::RedisAccumulators> Make(std::string prefix = "dash") {
    redis::RedisOptions options;
    options.url = server_.url();
    options.prefix = std::move(prefix);
    auto made = redis::RedisAccumulators::Create(clock_, core::BusinessCalendar::Utc(), options);
    EXPECT_TRUE(made) << made.error().ToString();
    return made ? std::move(*made) : nullptr;
  }
  std::string Get(const std::string& key) {
    auto r = cli_->Command({"GET", key});
    EXPECT_TRUE(r);
    return r && (*r)->type == REDIS_REPLY_STRING ? std::string((*r)->str, (*r)->len) : "(nil)";
  }
  std::unique_ptr<store::SqliteStore> StoreWith(std::vector<model::Event> events) {
    auto store = store::SqliteStore::Open(dir_.str());
    EXPECT_TRUE(store) << store.error().ToString();
    batch_.source = "test";
    batch_.events = std::move(events);
    std::vector<const model::Batch*> batches{&batch_};
    auto stats = (*store)->Append(batches);
    EXPECT_TRUE(stats);
    return std::move(*store);
  }

  ::tally::testing::RedisServer server_;
  ::tally::testing::TempDir dir_;
  std::unique_ptr<redis::RedisConnection> cli_;
  ::tally::testing::SimulatedClock clock_{At("2026-03-10T12:00:30Z")};
  model::Batch batch_;
};

TEST_F(RedisAccumulatorsTest, SeedKeyNamesHoldTheCurrentValuesAsIntegerMicroUsd) {
  auto live = Make();
  ASSERT_TRUE(testing::ApplyEvents(*live, {Spend("a", "kev", clock_.Now(), 1'000'000, true),
                                           Spend("b", "kev", clock_.Now() - 10min, 500'000),
                                           Revenue("r", "p1", clock_.Now(), 19'990'000)}));
  EXPECT_EQ(Get("dash:spend:daily:kev"), "1500000");
  EXPECT_EQ(Get("dash:spend:hourly:kev"), "1500000");
  EXPECT_EQ(Get("dash:errors:5min:kev"), "1");
  EXPECT_EQ(Get("dash:velocity:kev"), "200000");
  EXPECT_EQ(Get("dash:revenue:daily:p1"), "19990000");
  EXPECT_EQ(Get("dash:revenue:mtd"), "19990000");
  // Reads refresh them as windows move.
  clock_.Advance(5min);
  ASSERT_TRUE(live->Agent("kev"));
  EXPECT_EQ(Get("dash:velocity:kev"), "0");
  EXPECT_EQ(Get("dash:errors:5min:kev"), "0");
  EXPECT_EQ(Get("dash:spend:hourly:kev"), "1500000");
}

TEST_F(RedisAccumulatorsTest, FlushallThenRebuildRestoresTheCounters) {
  std::vector<model::Event> events = {Spend("a", "kev", clock_.Now(), 1'500, true),
                                      Spend("b", "kev", clock_.Now() - 61min, 2'500),
                                      Spend("c", "mae", clock_.Now() - 3min, 700),
                                      Revenue("r1", "p1", clock_.Now(), 10'000'000)};
  auto store = StoreWith(events);
  auto live = Make();
  ASSERT_TRUE(testing::ApplyEvents(*live, events));
  ASSERT_TRUE(live->CheckAndReserve({"kev", 300, 1'000'000, true, "r-held", clock_.Now() + 5min, {}}));
  auto before = live->Snapshot();
  ASSERT_TRUE(before);

  ASSERT_TRUE(cli_->Command({"FLUSHALL"}));
  auto empty = live->Snapshot();
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->agents.empty());

  ASSERT_TRUE(live->Rebuild(*store));
  auto after = live->Snapshot();
  ASSERT_TRUE(after);
  ASSERT_EQ(after->agents.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(after->agents[i].agent_id, before->agents[i].agent_id);
    EXPECT_EQ(after->agents[i].spend_today, before->agents[i].spend_today);
    EXPECT_EQ(after->agents[i].spend_1h, before->agents[i].spend_1h);
    EXPECT_EQ(after->agents[i].errors_5m, before->agents[i].errors_5m);
    EXPECT_EQ(after->agents[i].velocity_per_min, before->agents[i].velocity_per_min);
  }
  EXPECT_EQ(after->agents[0].spend_today, 4'000);
  EXPECT_EQ(after->revenue_mtd, 10'000'000);
  EXPECT_EQ(Get("dash:spend:daily:kev"), "4000");
  // Rebuilding again replaces, never adds.
  ASSERT_TRUE(live->Rebuild(*store));
  EXPECT_EQ(Get("dash:spend:daily:kev"), "4000");
  EXPECT_EQ(live->Snapshot()->revenue_mtd, 10'000'000);
}

TEST_F(RedisAccumulatorsTest, ColdCountersAreSeededOnceAndNeverAddedTo) {
  auto store = StoreWith({Spend("a", "kev", clock_.Now(), 1'000)});
  auto node1 = Make();
  auto node2 = Make();
  auto first = node1->SeedIfCold(*store);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = node2->SeedIfCold(*store);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);  // warm: left as it is
  EXPECT_EQ(node2->Agent("kev")->spend_today, 1'000);
  ASSERT_TRUE(cli_->Command({"FLUSHALL"}));  // cold again
  EXPECT_TRUE(*node2->SeedIfCold(*store));
  EXPECT_EQ(node1->Agent("kev")->spend_today, 1'000);
}

TEST_F(RedisAccumulatorsTest, TwoNodesSharingOneServerNeverOverAdmitTogether) {
  auto node1 = Make();
  auto node2 = Make();
  ASSERT_TRUE(testing::ApplyEvents(*node1, {Spend("a", "kev", clock_.Now(), 9'000'000)}));
  constexpr int kThreads = 8;
  constexpr int kChecks = 100;
  std::atomic<std::int64_t> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Accumulators& node = t % 2 == 0 ? *node1 : *node2;
      for (int i = 0; i < kChecks; ++i) {
        std::int64_t estimate = 10'000 + ((t * 7919 + i * 104729) % 490'001);
        ReserveRequest r;
        r.agent_id = "kev";
        r.estimate = estimate;
        r.limit = 10'000'000;
        r.reservation_id = fmt::format("n-{}-{}", t, i);
        r.expires_at = clock_.Now() + 5min;
        r.runaway.enabled = false;
        auto got = node.CheckAndReserve(r);
        ASSERT_TRUE(got) << got.error().ToString();
        if (got->verdict == Verdict::kAllowed) admitted += estimate;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(admitted.load(), 1'000'000);
  EXPECT_GT(admitted.load(), 500'000);
  EXPECT_EQ(node1->Agent("kev")->reserved, admitted.load());
  EXPECT_EQ(node2->Agent("kev")->reserved, admitted.load());
}

TEST_F(RedisAccumulatorsTest, ASettlementOnOneNodeFreesTheReservationOfAnother) {
  auto node1 = Make();
  auto node2 = Make();
  ReserveRequest r{"kev", 500'000, 1'000'000, true, "r1", clock_.Now() + 5min, {}};
  r.runaway.enabled = false;
  ASSERT_TRUE(node1->CheckAndReserve(r)->reserved);
  auto dup = node2->CheckAndReserve(r);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), core::ErrorCode::kConflict);
  ASSERT_TRUE(testing::ApplyEvents(*node2, {Spend("call", "kev", clock_.Now(), 120'000, false, "r1")}));
  auto c = node1->Agent("kev");
  EXPECT_EQ(c->reserved, 0);
  EXPECT_EQ(c->spend_today, 120'000);
}

TEST_F(RedisAccumulatorsTest, AFlushedScriptCacheFallsBackToEval) {
  auto live = Make();
  ASSERT_TRUE(cli_->Command({"SCRIPT", "FLUSH"}));
  ASSERT_TRUE(testing::ApplyEvents(*live, {Spend("a", "kev", clock_.Now(), 42)}));
  EXPECT_EQ(live->Agent("kev")->spend_today, 42);
}

TEST_F(RedisAccumulatorsTest, AnUnreachableServerIsUnavailableNamingTheCommand) {
  auto live = Make();
  server_.Stop();
  auto a = live->Agent("kev");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), core::ErrorCode::kUnavailable);
  EXPECT_NE(a.error().message().find("redis EVALSHA"), std::string::npos) << a.error().ToString();

  redis::RedisOptions options;
  options.url = server_.url();
  auto made = redis::RedisAccumulators::Create(clock_, core::BusinessCalendar::Utc(), options);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code(), core::ErrorCode::kUnavailable);
  EXPECT_NE(made.error().message().find("CONNECT"), std::string::npos) << made.error().ToString();
}

TEST(RedisUrlTest, ParsesHostPortDatabaseAndPassword) {
  auto u = redis::ParseRedisUrl("redis://:s3cret@10.0.0.5:6380/2");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(u->password, "s3cret");
  auto d = redis::ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  EXPECT_FALSE(redis::ParseRedisUrl("http://x:1"));
  EXPECT_FALSE(redis::ParseRedisUrl("redis://x:notaport/0"));
}

// The check reads a running total (resv:sum) instead of summing every open
// reservation: after reserves, settlements, releases and expiries in any
// mix, the total is still exactly the sum of the holds left, and it is gone
// when none is.
TEST_F(RedisAccumulatorsTest, TheRunningReservedTotalStaysExactThroughSettleReleaseAndExpiry) {
  auto live = Make();
  std::int64_t expected = 0;
  for (int i = 0; i < 300; ++i) {
    // Thirds: lapse after 1 min, after 2 min, or stay.
    auto ttl = i % 3 == 0 ? 1min : i % 3 == 1 ? 2min : 10min;
    ReserveRequest r{"kev", 1'000 + i, std::nullopt, true, fmt::format("r{}", i), clock_.Now() + ttl, {}};
    r.runaway.enabled = false;
    ASSERT_TRUE(live->CheckAndReserve(r));
    if (i % 3 == 2) expected += 1'000 + i;
  }
  // Settle and release some of the ones that stay (i % 3 == 2).
  std::vector<model::Event> calls;
  for (int i = 2; i < 60; i += 6) {
    calls.push_back(Spend(fmt::format("c{}", i), "kev", clock_.Now(), 10, false, fmt::format("r{}", i)));
    expected -= 1'000 + i;
  }
  ASSERT_TRUE(testing::ApplyEvents(*live, calls));
  for (int i = 5; i < 60; i += 6) {
    ASSERT_TRUE(live->Release(fmt::format("r{}", i)));
    expected -= 1'000 + i;
  }
  ASSERT_TRUE(live->Release("r5"));  // twice: nothing more to release
  clock_.Advance(61s);
  EXPECT_GT(live->Agent("kev")->reservations, 100);
  clock_.Advance(60s);
  auto c = live->Agent("kev");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reserved, expected);
  EXPECT_EQ(c->reservations, 100 - 20);
  EXPECT_EQ(Get("dash:resv:sum:kev"), std::to_string(expected));
  clock_.Advance(10min);
  c = live->Agent("kev");
  EXPECT_EQ(c->reserved, 0);
  EXPECT_EQ(c->reservations, 0);
  EXPECT_EQ(Get("dash:resv:sum:kev"), "(nil)");
}

// Kill switches live in P:pause, read by the check script; a rebuild copies
// them from the store (a restarted Redis gets them back).
TEST_F(RedisAccumulatorsTest, PausesAreReadByTheCheckAndRestoredByRebuild) {
  auto store = StoreWith({});
  model::Agent a;
  a.id = "kev";
  a.role = "builder";
  a.created_at = clock_.Now();
  ASSERT_TRUE(store->PutAgent(a));
  auto live = Make();
  ReserveRequest r{"kev", 100, std::nullopt, false, "", clock_.Now() + 5min, {}};
  ASSERT_TRUE(live->SetPause("kev", true));
  EXPECT_EQ(live->CheckAndReserve(r)->verdict, Verdict::kAgentPaused);
  ASSERT_TRUE(live->SetPause(store::kFactoryTarget, true));
  EXPECT_EQ(live->CheckAndReserve(r)->verdict, Verdict::kFactoryPaused);
  ASSERT_TRUE(live->SetPause(store::kFactoryTarget, false));
  ASSERT_TRUE(live->SetPause("kev", false));
  EXPECT_EQ(live->CheckAndReserve(r)->verdict, Verdict::kAllowed);
  // The local hint is not Redis's business: another node may have resumed.
  r.pause = LocalPause::kAgent;
  EXPECT_EQ(live->CheckAndReserve(r)->verdict, Verdict::kAllowed);
  r.pause = LocalPause::kNone;

  ASSERT_TRUE(store->SetKillSwitch({"kev", true, "loop", "test", clock_.Now()}));
  ASSERT_TRUE(cli_->Command({"FLUSHALL"}));
  ASSERT_TRUE(live->Rebuild(*store));
  EXPECT_EQ(live->CheckAndReserve(r)->verdict, Verdict::kAgentPaused);
}

}  // namespace
}  // namespace tally::live
