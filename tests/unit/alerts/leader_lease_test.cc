// The Redis leader lease against a real redis-server: one holder at a time,
// renewal keeps it, expiry hands it over, release hands it over at once.
#include "alerts/leader_lease.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/redis_server.h"

namespace tally::alerts {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<RedisLease> Lease(const std::string& key, const std::string& node, milliseconds ttl) {
  live::redis::RedisConnection::Options o;
  o.url = *live::redis::ParseRedisUrl(testing::RedisServer::Shared().url());
  o.pool_size = 1;
  return std::make_unique<RedisLease>(std::move(*live::redis::RedisConnection::Connect(o)), key, node, ttl);
}

TEST(RedisLeaseTest, OneHolderAtATimeAndRenewalKeepsIt) {
  auto a = Lease("t1:alerts:leader", "a", milliseconds(300));
  auto b = Lease("t1:alerts:leader", "b", milliseconds(300));
  EXPECT_TRUE(*a->TryAcquire());
  EXPECT_FALSE(*b->TryAcquire());
  // Renewing every 100 ms keeps a leading well past one lease (real Redis TTLs).
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(*a->TryAcquire());
    EXPECT_FALSE(*b->TryAcquire());
  }
}

TEST(RedisLeaseTest, ALapsedLeaseIsTakenOverAndReleaseHandsOverAtOnce) {
  auto a = Lease("t2:alerts:leader", "a", milliseconds(200));
  auto b = Lease("t2:alerts:leader", "b", milliseconds(200));
  ASSERT_TRUE(*a->TryAcquire());
  std::this_thread::sleep_for(milliseconds(300));  // a stops renewing: it "died"
  EXPECT_TRUE(*b->TryAcquire());
  EXPECT_FALSE(*a->TryAcquire());  // and cannot come back while b renews
  a->Release();                    // not a's to release: b keeps it
  EXPECT_FALSE(*a->TryAcquire());
  b->Release();
  EXPECT_TRUE(*a->TryAcquire());
}

}  // namespace
}  // namespace tally::alerts
