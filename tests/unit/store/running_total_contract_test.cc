// Running totals at append (store/cumulative.h, model::CumulativeAmount), run
// against every backend: a provider's cumulative amount (Lemon Squeezy's
// refunded_amount) delivered with retries, out of order, across reopen,
// through the parking lot and from two concurrent store instances always
// leaves the key's rows summing to the largest total seen, and the raw rows,
// the rollups and the post-commit stats agree.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "store/cumulative.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

constexpr const char* kProduct = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr const char* kKey = "lemonsqueezy:refund:order:42";

struct Backend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const std::string& location)> open;
  // revenue_events.amount_usd read as integer micro-USD.
  std::string amount_micros = "amount_usd";
  friend void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }
};

// A refund whose cumulative total is `cents` (USD cents), as the Lemon
// Squeezy source emits it: id = key + ":" + the cumulative amount, amount_usd
// the whole total (the store replaces it by the increase).
model::RevenueEvent Refund(std::int64_t cents, const std::string& key = kKey) {
  model::RevenueEvent e;
  e.event_id = key + ":" + std::to_string(cents);
  e.time = At(cents);  // distinct times, same day
  e.product_id = kProduct;
  e.event_type = model::RevenueEventType::kRefund;
  e.amount_usd = core::Money::FromMicros(-cents * 10'000);
  e.cumulative = model::CumulativeAmount{key, core::Money::FromMicros(-cents * 10'000)};
  return e;
}

class RunningTotalContractTest : public ReopenableStoreTest<Backend> {
 protected:
  AppendStats Deliver(std::vector<model::Event> events) {
    auto batch = MakeBatch(std::move(events), "webhook:lemonsqueezy");
    auto stats = AppendOne(store(), batch);
    EXPECT_TRUE(stats) << stats.error().ToString();
    return stats ? (*stats)[0] : AppendStats{};
  }

  // Net revenue of the product from the raw rows (backend-neutral read).
  std::int64_t RawNetMicros() {
    auto buckets = store().RevenueSince(At(-86'400'000'000), std::chrono::hours(24 * 365));
    EXPECT_TRUE(buckets) << buckets.error().ToString();
    std::int64_t sum = 0;
    for (const auto& b : buckets.value_or(std::vector<RevenueBucket>{})) sum += b.amount_micros;
    return sum;
  }
  // The same from the revenue_daily rollup, which the append folds in the
  // same transaction.
  std::int64_t RollupRefundMicros(std::int64_t* count = nullptr) {
    auto r = store().ReadRollups(At(-86'400'000'000), At(86'400'000'000), kRevenueRollup);
    EXPECT_TRUE(r) << r.error().ToString();
    std::int64_t sum = 0, n = 0;
    for (const auto& row : r ? r->revenue : std::vector<RevenueDailyRow>{}) {
      sum += row.refunds_micros;
      n += row.event_count;
    }
    if (count != nullptr) *count = n;
    return sum;
  }
  std::int64_t Rows() { return store().CountEvents(model::EventKind::kRevenue).value_or(-1); }
};

TEST_P(RunningTotalContractTest, GrowingTotalsStoreTheirIncreasesAndRetriesNothing) {
  // 10.00, then 25.00, then 50.00 (full), each delivered three times.
  for (std::int64_t cents : {1000, 2500, 5000}) {
    for (int i = 0; i < 3; ++i) {
      AppendStats s = Deliver({Refund(cents)});
      EXPECT_EQ(s.accepted, i == 0 ? 1 : 0) << cents << " delivery " << i;
      EXPECT_EQ(s.duplicates, i == 0 ? 0 : 1);
    }
  }
  EXPECT_EQ(Rows(), 3);
  EXPECT_EQ(RawNetMicros(), -50'000'000);
  std::int64_t count = 0;
  EXPECT_EQ(RollupRefundMicros(&count), -50'000'000);
  EXPECT_EQ(count, 3);
  // Each row holds its increase: -10, -15, -25.
  auto r = store().Query("SELECT event_id, " + GetParam().amount_micros +
                         " FROM revenue_events ORDER BY event_id");
  ASSERT_TRUE(r) << r.error().ToString();
  std::vector<std::vector<SqlValue>> want = {
      {std::string(kKey) + ":1000", std::int64_t{-10'000'000}},
      {std::string(kKey) + ":2500", std::int64_t{-15'000'000}},
      {std::string(kKey) + ":5000", std::int64_t{-25'000'000}}};
  EXPECT_EQ(r->rows, want);
}

TEST_P(RunningTotalContractTest, StatsReportTheStoredIncreaseForPostCommitConsumers) {
  ASSERT_EQ(Deliver({Refund(1000)}).accepted, 1);
  // A batch mixing a plain event, a growing total and a late smaller one.
  model::RevenueEvent plain;
  plain.event_id = "plain-payment";
  plain.time = At(5);
  plain.product_id = kProduct;
  plain.amount_usd = core::Money::FromMicros(99'000'000);
  AppendStats s = Deliver({plain, Refund(2500), Refund(500)});
  EXPECT_EQ(s.accepted, 2);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.duplicate_indexes, (std::vector<std::int64_t>{2}));
  ASSERT_EQ(s.adjusted.size(), 1u);
  EXPECT_EQ(s.adjusted[0].first, 1);
  const auto& stored = std::get<model::RevenueEvent>(s.adjusted[0].second);
  EXPECT_EQ(stored.event_id, std::string(kKey) + ":2500");
  EXPECT_EQ(stored.amount_usd->micros(), -15'000'000);
  EXPECT_EQ(RawNetMicros(), 99'000'000 - 25'000'000);
}

TEST_P(RunningTotalContractTest, OutOfOrderNeverDoubleCounts) {
  // 25.00 first (stored whole), then the late 10.00 (nothing), then 50.00.
  EXPECT_EQ(Deliver({Refund(2500)}).accepted, 1);
  EXPECT_EQ(RawNetMicros(), -25'000'000);
  AppendStats late = Deliver({Refund(1000)});
  EXPECT_EQ(late.accepted, 0);
  EXPECT_EQ(late.duplicates, 1);
  EXPECT_EQ(late.duplicate_indexes, (std::vector<std::int64_t>{0}));
  EXPECT_EQ(RawNetMicros(), -25'000'000);
  for (int i = 0; i < 3; ++i) (void)Deliver({Refund(1000)});
  EXPECT_EQ(Deliver({Refund(5000)}).accepted, 1);
  EXPECT_EQ(Deliver({Refund(2500)}).accepted, 0);
  EXPECT_EQ(Deliver({Refund(1000)}).accepted, 0);
  EXPECT_EQ(RawNetMicros(), -50'000'000);
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
  EXPECT_EQ(Rows(), 2);
}

TEST_P(RunningTotalContractTest, SeveralTotalsOfOneKeyInOneCallAndKeysApart) {
  // One group commit holding a retry, an out-of-order pair and another order.
  auto first = MakeBatch({Refund(2500), Refund(1000)});
  auto second = MakeBatch({Refund(1000), Refund(5000), Refund(5000), Refund(700, "lemonsqueezy:refund:order:4")});
  auto stats = AppendAll(store(), {&first, &second});
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
  EXPECT_EQ((*stats)[0].duplicate_indexes, (std::vector<std::int64_t>{1}));
  EXPECT_EQ((*stats)[1].accepted, 2);
  EXPECT_EQ((*stats)[1].duplicate_indexes, (std::vector<std::int64_t>{0, 2}));
  // Order 4's key is a prefix of order 42's text, not of its rows.
  EXPECT_EQ(RawNetMicros(), -50'000'000 - 7'000'000);
  EXPECT_EQ(Deliver({Refund(900, "lemonsqueezy:refund:order:4")}).accepted, 1);
  EXPECT_EQ(RawNetMicros(), -50'000'000 - 9'000'000);
}

TEST_P(RunningTotalContractTest, StateLivesInTheStoreAcrossReopen) {
  EXPECT_EQ(Deliver({Refund(1000)}).accepted, 1);
  Reopen();
  EXPECT_EQ(Deliver({Refund(1000)}).accepted, 0);
  EXPECT_EQ(Deliver({Refund(2500)}).accepted, 1);
  Reopen();
  EXPECT_EQ(Deliver({Refund(2500)}).accepted, 0);
  EXPECT_EQ(Deliver({Refund(5000)}).accepted, 1);
  EXPECT_EQ(RawNetMicros(), -50'000'000);
}

TEST_P(RunningTotalContractTest, AnEarlierRowNamedByTheKeyItselfCounts) {
  // A full refund stored before running totals existed had the bare key as id.
  model::RevenueEvent legacy = Refund(5000);
  legacy.event_id = kKey;
  legacy.cumulative.reset();
  ASSERT_EQ(Deliver({legacy}).accepted, 1);
  EXPECT_EQ(Deliver({Refund(5000)}).accepted, 0);
  EXPECT_EQ(RawNetMicros(), -50'000'000);
}

TEST_P(RunningTotalContractTest, AnIdOutsideItsKeyIsRefusedAndNothingStored) {
  model::RevenueEvent bad = Refund(1000);
  bad.event_id = "lemonsqueezy:refund:order:7:1000";  // not under kKey
  auto ok = MakeBatch({Refund(2500)});
  auto wrong = MakeBatch({bad});
  auto stats = AppendAll(store(), {&ok, &wrong});
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(stats.error().message().find("lemonsqueezy:refund:order:7:1000"), std::string::npos)
      << stats.error().message();
  EXPECT_EQ(Rows(), 0);
}

TEST_P(RunningTotalContractTest, ParkedTotalsReplayAsIncreases) {
  model::Product p;
  p.id = kProduct;
  p.name = "Invoicer";
  p.type = "micro-saas";
  ASSERT_TRUE(store().PutProduct(p));
  // The resolver stands in for the source: the payload is the cumulative
  // cents; resolved once a mapping exists.
  ParkedResolver resolve = [](const ParkedEvent& parked,
                              std::span<const ProductMapping> mappings) -> Result<ParkedResolution> {
    ParkedResolution r;
    if (mappings.empty()) {
      r.reason = "not mapped";
      return r;
    }
    r.resolved = true;
    r.events.push_back(Refund(std::stoll(parked.payload)));
    return r;
  };
  for (const char* cents : {"2500", "1000", "5000"}) {
    ParkedEvent parked;
    parked.provider = "lemonsqueezy";
    parked.provider_event_id = std::string("order_refunded:orders:42:") + cents;
    parked.event_type = "order_refunded";
    parked.reason = "not mapped";
    parked.payload = cents;
    parked.received_at = At(0);
    auto outcome = store().ParkEvent(parked, resolve);
    ASSERT_TRUE(outcome) << outcome.error().ToString();
    EXPECT_EQ(outcome->kind, ParkOutcome::Kind::kParked);
  }
  EXPECT_EQ(Deliver({Refund(1000)}).accepted, 1);  // one arrived after mapping elsewhere
  ProductMapping m{"lemonsqueezy", "*", kProduct, std::nullopt, At(1)};
  auto replay = store().PutMappingAndReplay(m, resolve);
  ASSERT_TRUE(replay) << replay.error().ToString();
  EXPECT_EQ(replay->replayed, 3);
  EXPECT_EQ(replay->accepted, 2);    // 25.00 (-15) and 50.00 (-25)
  EXPECT_EQ(replay->duplicates, 1);  // 10.00 again
  EXPECT_EQ(RawNetMicros(), -50'000'000);
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
}

TEST_P(RunningTotalContractTest, ConcurrentWritersNeverClaimTheSameIncrease) {
  // Two store instances on the same data (two tally processes or nodes),
  // each delivering every total several times, in opposite orders.
  auto second = GetParam().open(dir_.str());
  ASSERT_TRUE(second) << second.error().ToString();
  std::vector<std::int64_t> totals;
  for (std::int64_t c = 100; c <= 5000; c += 100) totals.push_back(c);
  std::atomic<int> failures{0};
  auto run = [&](Store* s, bool reverse) {
    for (int round = 0; round < 2; ++round) {
      for (size_t i = 0; i < totals.size(); ++i) {
        std::int64_t c = reverse ? totals[totals.size() - 1 - i] : totals[i];
        auto batch = MakeBatch({Refund(c)});
        if (!AppendOne(*s, batch)) ++failures;
      }
    }
  };
  std::thread a(run, store_.get(), false);
  std::thread b(run, second->get(), true);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(RawNetMicros(), -50'000'000);
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
}

TEST(CumulativePlan, CallsWithoutRunningTotalsAreNotCopiedOrRead) {
  auto batch = MakeBatch({MakeLlmCall("a")});
  const model::Batch* batches[] = {&batch};
  int reads = 0;
  auto plan = PlanCumulative(batches, [&](const std::string&) -> Result<core::Money> {
    ++reads;
    return core::Money();
  });
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->batches().size(), 1u);
  EXPECT_EQ(plan->batches()[0], &batch);
  EXPECT_EQ(reads, 0);
}

TEST(CumulativePlan, AReaderErrorFailsThePlan) {
  auto batch = MakeBatch({Refund(1000)});
  const model::Batch* batches[] = {&batch};
  auto plan = PlanCumulative(batches, [](const std::string&) -> Result<core::Money> {
    return std::unexpected(core::Error::Unavailable("db down"));
  });
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), core::ErrorCode::kUnavailable);
}

std::vector<Backend> Backends() {
  return {
      Backend{"Sqlite", OpenSqliteForLocation},
      Backend{"Postgres", OpenPostgresForLocation, "(amount_usd * 1000000)::bigint"},
  };
}

INSTANTIATE_TEST_SUITE_P(AllBackends, RunningTotalContractTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tally::store
