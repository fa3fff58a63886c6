// Lemon Squeezy partial refunds: order_refunded carries the order's
// cumulative refunded_amount. Conversion (event and delivery ids per
// cumulative amount, the running total handed to the store), then end to end
// in-process (real sockets, SQLite, pipeline): 10.00 -> 25.00 -> 50.00 on one
// order, each delivered three times, out of order, across restarts, parked
// before the mapping and concurrently, always nets -(largest total seen).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/ids.h"
#include "ingest/sources/lemonsqueezy_source.h"
#include "ingest/sources/source_registry.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"
#include "unit/sources/fixtures.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;

constexpr const char* kProduct = "7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11";
constexpr const char* kSecret = "holdout-ls-signing-secret-4e1b";

// The recorded (assembled) order_refunded, turned into the partial refund
// Lemon Squeezy sends: status partial_refund, refunded false and the
// cumulative refunded_amount (and its USD value) in cents. `currency` other
// than USD drops the *_usd figure so the rate table is used.
std::string PartialRefund(std::int64_t cumulative_cents, const std::string& currency = "USD") {
  auto doc = json::parse(
      testing::ReadFixture("lemonsqueezy/assembled/order_refunded.assembled-edited.json"));
  auto& attrs = doc.at("data").at("attributes").as_object();
  // The assembled order totals 11.99; make it 50.00 so 50.00 is the full refund.
  attrs["total"] = 5000;
  attrs["total_usd"] = 5000;
  bool full = cumulative_cents >= 5000;
  attrs["status"] = full ? "refunded" : "partial_refund";
  attrs["refunded"] = full;
  attrs["refunded_amount"] = cumulative_cents;
  attrs["currency"] = currency;
  if (currency == "USD") {
    attrs["refunded_amount_usd"] = cumulative_cents;
  } else {
    attrs.erase("total_usd");
  }
  return json::serialize(doc);
}

store::ProductMapping Variant1() {
  store::ProductMapping m;
  m.provider = "lemonsqueezy";
  m.external_id = "1";
  m.product_id = kProduct;
  return m;
}

TEST(LemonSqueezyRefundConvert, EachCumulativeAmountIsItsOwnDeliveryAndEvent) {
  LemonSqueezySource source(kSecret, CurrencyConverter(std::map<std::string, std::string>{{"EUR", "1.10"}}));
  std::vector<store::ProductMapping> m{Variant1()};
  for (std::int64_t cents : {1000, 2500, 5000}) {
    auto c = source.Convert(PartialRefund(cents), m);
    ASSERT_TRUE(c) << c.error().ToString();
    ASSERT_EQ(c->kind, Conversion::Kind::kEvents) << c->reason;
    const auto& e = std::get<model::RevenueEvent>(c->events.at(0));
    EXPECT_EQ(e.event_id, fmt::format("lemonsqueezy:refund:order:1:{}", cents));
    EXPECT_EQ(c->provider_event_id, fmt::format("order_refunded:orders:1:{}", cents));
    EXPECT_EQ(e.event_type, model::RevenueEventType::kRefund);
    ASSERT_TRUE(e.cumulative);
    EXPECT_EQ(e.cumulative->key, "lemonsqueezy:refund:order:1");
    EXPECT_EQ(e.cumulative->total.micros(), -cents * 10'000);
    auto md = json::parse(e.metadata).as_object();
    EXPECT_EQ(md.at("refunded_amount").as_int64(), cents);
    EXPECT_EQ(md.at("refunded_total_usd").as_string(), core::Money::FromMicros(cents * 10'000).ToString());
  }
  // No USD figure: the cumulative amount goes through the rate table.
  auto eur = source.Convert(PartialRefund(1000, "EUR"), m);
  ASSERT_TRUE(eur) << eur.error().ToString();
  ASSERT_EQ(eur->kind, Conversion::Kind::kEvents) << eur->reason;
  const auto& e = std::get<model::RevenueEvent>(eur->events.at(0));
  EXPECT_EQ(e.cumulative->total.micros(), -11'000'000);
  EXPECT_EQ(json::parse(e.metadata).at("original_currency").as_string(), "EUR");
}

class LemonSqueezyRefundServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SourcesConfig config;
    config.lemonsqueezy_signing_secret = kSecret;
    sources_ = SourceRegistry::FromConfig(config);
    prices_ = model::PriceTable::Defaults();
    Start();
    model::Product p;
    p.id = kProduct;
    p.name = "Invoicer";
    p.type = "micro-saas";
    ASSERT_TRUE(store_->PutProduct(p));
    auto key = server::CreateApiKey(*store_, store::kScopeAdmin, "test", core::SystemClock::Instance().Now());
    ASSERT_TRUE(key);
    admin_ = key->secret;
  }
  void TearDown() override { Stop(); }

  void Start() {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    testing::InProcessServerOptions options;
    options.configure = [this](server::Services& services) { services.sources = sources_.get(); };
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
  }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
    store_.reset();
  }
  // A process restart: nothing kept in memory survives.
  void Restart() {
    Stop();
    Start();
  }

  testing::ClientResponse Deliver(const std::string& body) {
    testing::HttpClient c("127.0.0.1", server_->port());
    auto r = c.Request("POST", "/webhooks/lemonsqueezy", body, "application/json",
                       {{"X-Signature", core::HmacSha256Hex(kSecret, body)}, {"X-Event-Name", "order_refunded"}});
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  testing::ClientResponse Map() {
    testing::HttpClient c("127.0.0.1", server_->port());
    c.SetBearer(admin_);
    auto r = c.Request("POST", "/v1/mappings",
                       fmt::format(R"({{"provider":"lemonsqueezy","external_id":"1","product_id":"{}"}})", kProduct));
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  std::int64_t RefundMicros() {
    auto q = store_->Query("SELECT COALESCE(SUM(amount_usd), 0) FROM revenue_events WHERE event_type = 'refund'");
    EXPECT_TRUE(q) << q.error().ToString();
    return q ? std::get<std::int64_t>(q->rows[0][0]) : -1;
  }
  std::int64_t RollupRefundMicros() {
    auto r = store_->ReadRollups(core::FromMicros(0), core::FromMicros(2'000'000'000'000'000), store::kRevenueRollup);
    EXPECT_TRUE(r);
    std::int64_t sum = 0;
    for (const auto& row : r ? r->revenue : std::vector<store::RevenueDailyRow>{}) sum += row.refunds_micros;
    return sum;
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_{core::FromMicros(1'700'000'000'000'000)};
  std::unique_ptr<SourceRegistry> sources_;
  model::PriceTable prices_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::string admin_;
};

TEST_F(LemonSqueezyRefundServerTest, GrowingPartialRefundsRetriedAndRestartedNetTheLargest) {
  ASSERT_EQ(Map().status, 201);
  std::int64_t want[] = {-10'000'000, -25'000'000, -50'000'000};
  int step = 0;
  for (std::int64_t cents : {1000, 2500, 5000}) {
    for (int i = 0; i < 3; ++i) {
      auto r = Deliver(PartialRefund(cents));
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(json::parse(r.body).at("accepted").as_int64(), i == 0 ? 1 : 0) << cents;
    }
    EXPECT_EQ(RefundMicros(), want[step]) << cents;
    ++step;
    Restart();
  }
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
  auto rows = store_->Query("SELECT event_id, amount_usd FROM revenue_events ORDER BY event_id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->rows.size(), 3u);
  EXPECT_EQ(rows->rows[0][1], store::SqlValue(std::int64_t{-10'000'000}));
  EXPECT_EQ(rows->rows[1][1], store::SqlValue(std::int64_t{-15'000'000}));
  EXPECT_EQ(rows->rows[2][1], store::SqlValue(std::int64_t{-25'000'000}));
}

TEST_F(LemonSqueezyRefundServerTest, OutOfOrderNeverDoubleCounts) {
  ASSERT_EQ(Map().status, 201);
  ASSERT_EQ(Deliver(PartialRefund(2500)).status, 200);
  EXPECT_EQ(RefundMicros(), -25'000'000);
  for (int i = 0; i < 3; ++i) {
    auto late = Deliver(PartialRefund(1000));
    ASSERT_EQ(late.status, 200) << late.body;
    EXPECT_EQ(json::parse(late.body).at("accepted").as_int64(), 0);
    EXPECT_EQ(json::parse(late.body).at("duplicates").as_int64(), 1);
  }
  EXPECT_EQ(RefundMicros(), -25'000'000);
  Restart();
  ASSERT_EQ(Deliver(PartialRefund(5000)).status, 200);
  ASSERT_EQ(Deliver(PartialRefund(1000)).status, 200);
  ASSERT_EQ(Deliver(PartialRefund(2500)).status, 200);
  EXPECT_EQ(RefundMicros(), -50'000'000);
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
}

TEST_F(LemonSqueezyRefundServerTest, PartialRefundsParkedBeforeTheMappingAreEachKept) {
  // Unmapped: each cumulative amount is its own parked delivery (a second
  // partial refund is not a retry of the first).
  for (std::int64_t cents : {2500, 1000, 5000, 1000}) {
    auto r = Deliver(PartialRefund(cents));
    ASSERT_EQ(r.status, 202) << r.body;
  }
  EXPECT_EQ(store_->ListParked(false)->size(), 3u);
  auto mapped = Map();
  ASSERT_EQ(mapped.status, 201) << mapped.body;
  EXPECT_EQ(json::parse(mapped.body).at("replay").at("replayed").as_int64(), 3);
  EXPECT_EQ(RefundMicros(), -50'000'000);
  for (std::int64_t cents : {1000, 2500, 5000}) ASSERT_EQ(Deliver(PartialRefund(cents)).status, 200);
  EXPECT_EQ(RefundMicros(), -50'000'000);
}

TEST_F(LemonSqueezyRefundServerTest, ConcurrentDeliveriesNeverClaimTheSameIncrease) {
  ASSERT_EQ(Map().status, 201);
  std::vector<std::thread> senders;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    senders.emplace_back([&, t] {
      // Half the senders go through the totals upwards, half downwards.
      std::vector<std::int64_t> order{1000, 2500, 5000};
      if (t % 2 == 1) std::reverse(order.begin(), order.end());
      for (int round = 0; round < 3; ++round) {
        for (std::int64_t cents : order) {
          if (Deliver(PartialRefund(cents)).status != 200) ++failures;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(RefundMicros(), -50'000'000);
  EXPECT_EQ(RollupRefundMicros(), -50'000'000);
}

}  // namespace
}  // namespace tally::ingest
