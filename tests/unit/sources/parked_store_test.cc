// SqliteStore's parking lot: park, deduplicate, and replay on mapping add
// in one transaction (the mapping, the released events and the marks).
#include <gtest/gtest.h>

#include "ingest/sources/source_registry.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/sources/fixtures.h"

namespace tally::store {
namespace {

constexpr const char* kProduct = "7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11";

class ParkedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    model::Product p;
    p.id = kProduct;
    p.name = "Invoicer";
    p.type = "micro-saas";
    ASSERT_TRUE(store_->PutProduct(p));
    core::SourcesConfig config;
    config.stripe_webhook_secrets = {"whsec_x"};
    sources_ = ingest::SourceRegistry::FromConfig(config);
  }

  ParkedEvent Parked(const std::string& fixture) {
    std::string body = testing::ReadFixture("stripe/events/" + fixture + ".supabase-stripe-sync-engine.json");
    auto conv = sources_->Find("stripe")->Convert(body, {});
    EXPECT_TRUE(conv);
    ParkedEvent p;
    p.provider = "stripe";
    p.provider_event_id = conv->provider_event_id;
    p.event_type = conv->event_type;
    p.reason = conv->reason;
    p.payload = body;
    p.received_at = core::FromMicros(1'700'000'000'000'000);
    return p;
  }

  std::int64_t Revenue() { return *store_->CountEvents(model::EventKind::kRevenue); }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<ingest::SourceRegistry> sources_;
};

TEST_F(ParkedStoreTest, ParksOncePerProviderEventId) {
  auto first = store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver());
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->kind, ParkOutcome::Kind::kParked);
  auto again = store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, ParkOutcome::Kind::kDuplicate);
  EXPECT_EQ(again->parked_id, first->parked_id);
  auto listed = store_->ListParked(false);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].event_type, "payment_intent.succeeded");
  EXPECT_NE((*listed)[0].reason.find("no product mapping"), std::string::npos);
  EXPECT_EQ(Revenue(), 0);
}

TEST_F(ParkedStoreTest, MappingReplaysParkedEventsInTheSameTransaction) {
  ASSERT_TRUE(store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver()));
  ASSERT_TRUE(store_->ParkEvent(Parked("charge.refunded"), sources_->resolver()));
  ProductMapping m{"stripe", "*", kProduct, std::nullopt, core::FromMicros(1'700'000'100'000'000)};
  auto stats = store_->PutMappingAndReplay(m, sources_->resolver());
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->replayed, 2);
  EXPECT_EQ(stats->accepted, 2);
  EXPECT_EQ(stats->still_parked, 0);
  EXPECT_EQ(Revenue(), 2);
  EXPECT_TRUE(*store_->HasEvent(model::EventKind::kRevenue, "stripe:payment:pi_1IqxJOJDPojXS6LN9uOebAea"));
  EXPECT_TRUE(store_->ListParked(false)->empty());
  auto all = store_->ListParked(true);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE((*all)[0].replayed_at.has_value());
  // Replaying again finds nothing: nothing is counted twice.
  auto again = store_->PutMappingAndReplay(m, sources_->resolver());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->replayed, 0);
  EXPECT_EQ(Revenue(), 2);
}

TEST_F(ParkedStoreTest, MappingToAnUnknownProductStoresNothing) {
  ASSERT_TRUE(store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver()));
  ProductMapping m{"stripe", "*", "00000000-0000-4000-8000-000000000000", std::nullopt, {}};
  auto stats = store_->PutMappingAndReplay(m, sources_->resolver());
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), core::ErrorCode::kConflict);
  EXPECT_EQ(Revenue(), 0);
  EXPECT_EQ(store_->ListParked(false)->size(), 1u);
  EXPECT_TRUE(store_->ListMappings("stripe")->empty());
}

TEST_F(ParkedStoreTest, ParkingAfterTheMappingAppearedStoresInstead) {
  // The caller saw no mapping; one was added before it parked.
  ProductMapping m{"stripe", "*", kProduct, std::nullopt, {}};
  ASSERT_TRUE(store_->PutMappingAndReplay(m, sources_->resolver()));
  auto outcome = store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver());
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, ParkOutcome::Kind::kStored);
  EXPECT_EQ(outcome->accepted, 1);
  EXPECT_TRUE(store_->ListParked(true)->empty());
}

TEST_F(ParkedStoreTest, StillUnmappedEventsStayParkedWithTheirReason) {
  ASSERT_TRUE(store_->ParkEvent(Parked("payment_intent.succeeded"), sources_->resolver()));
  ProductMapping m{"stripe", "price_unrelated", kProduct, std::nullopt, {}};
  auto stats = store_->PutMappingAndReplay(m, sources_->resolver());
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->replayed, 0);
  EXPECT_EQ(stats->still_parked, 1);
  EXPECT_EQ(Revenue(), 0);
}

}  // namespace
}  // namespace tally::store
