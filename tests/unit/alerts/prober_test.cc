// Uptime probes against a local HTTP receiver: up, then failing since the
// first failure, recorded on the board and as uptime_check ops events.
#include "alerts/prober.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/http_receiver.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::alerts {
namespace {

TEST(ProberTest, RecordsUpThenDownSinceTheFirstFailureAndEmitsOpsEvents) {
  testing::HttpReceiver receiver;
  receiver.Accept("GET", "/health");
  receiver.Start();
  testing::TempDir dir;
  auto store = std::move(*store::SqliteStore::Open(dir.str()));
  testing::SimulatedClock clock(*core::ParseRfc3339("2026-03-10T14:00:00Z"));
  model::Product p;
  p.id = "11111111-1111-4111-8111-111111111111";
  p.name = "site";
  p.type = "seo-site";
  p.metadata = R"({"health_url":")" + receiver.url() + R"(/health"})";
  p.created_at = clock.Now();
  ASSERT_TRUE(store->PutProduct(p));
  model::Product quiet = p;
  quiet.id = "22222222-2222-4222-8222-222222222222";
  quiet.metadata = "";
  ASSERT_TRUE(store->PutProduct(quiet));

  ProbeBoard board;
  std::vector<model::OpsEvent> events;
  Prober prober(*store, clock, board, {}, [&](model::OpsEvent e) { events.push_back(std::move(e)); });
  ASSERT_TRUE(prober.ProbeAll());
  auto states = board.States();
  ASSERT_EQ(states.size(), 1u);  // only the product with a health URL
  EXPECT_EQ(states[0].last_status, 200);
  EXPECT_FALSE(states[0].failing_since);
  EXPECT_EQ(states[0].last_ok_at, clock.Now());

  receiver.SetStatuses({503});
  auto first_failure = clock.Now() + std::chrono::seconds(30);
  clock.Set(first_failure);
  ASSERT_TRUE(prober.ProbeAll());
  clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(prober.ProbeAll());
  states = board.States();
  EXPECT_EQ(states[0].last_status, 503);
  EXPECT_EQ(states[0].failing_since, first_failure);

  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, "uptime_check");
  EXPECT_EQ(events[0].status, "up");
  EXPECT_EQ(events[0].status_code, 200);
  EXPECT_EQ(events[2].status, "down");
  EXPECT_EQ(events[2].status_code, 503);
  EXPECT_EQ(events[2].product_id, p.id);
  EXPECT_NE(events[1].event_id, events[2].event_id);

  // Six minutes of failures trip product_down.
  clock.Set(first_failure + std::chrono::minutes(6));
  RuleInputs in;
  in.now = clock.Now();
  in.products = {p};
  in.probes = board.States();
  auto f = ProductDown(in, DefaultRuleSet().Rule("product_down"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "site down for 6 min (" + receiver.url() + "/health: HTTP 503)");
}

}  // namespace
}  // namespace tally::alerts
