// Lemon Squeezy and Gumroad: unit tests of Verify/Convert on the recorded
// fixtures and signature vectors, then end to end in-process (real sockets,
// SQLite, pipeline): signature, parking, mapping and replay, idempotency.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/ids.h"
#include "ingest/sources/gumroad_source.h"
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
constexpr const char* kLsSecret = "holdout-ls-signing-secret-4e1b";
constexpr const char* kGumroadToken = "gr-url-token-8f3a2c9d";

store::ProductMapping Mapping(const std::string& provider, const std::string& external_id) {
  store::ProductMapping m;
  m.provider = provider;
  m.external_id = external_id;
  m.product_id = kProduct;
  return m;
}

json::object Meta(const model::Event& e) {
  return json::parse(std::get<model::RevenueEvent>(e).metadata).as_object();
}
const model::RevenueEvent& Rev(const Conversion& c) {
  return std::get<model::RevenueEvent>(c.events.at(0));
}

// ---- Lemon Squeezy: signature vectors --------------------------------------

TEST(LemonSqueezySignature, RecordedVectors) {
  auto doc = testing::ReadFixtureJson("lemonsqueezy/signatures/lemonsqueezy_signature_vectors.json");
  int checked = 0;
  for (const auto& v : doc.at("vectors").as_array()) {
    std::string payload;
    if (const auto* f = v.as_object().if_contains("payload_file")) {
      payload = testing::ReadFixture("lemonsqueezy/" + std::string(f->as_string()));
    } else {
      payload = std::string(v.at("payload_inline").as_string());
    }
    std::string secret(v.at("secret").as_string());
    LemonSqueezySource source(secret, CurrencyConverter());
    std::map<std::string, std::string> headers{
        {"x-signature", std::string(v.at("x_signature").as_string())}};
    SourceRequest req{&headers, payload, {}};
    bool expected = v.at("expected_valid").as_bool();
    EXPECT_EQ(source.Verify(req, core::Timestamp()).has_value(), expected)
        << v.at("name").as_string();
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

TEST(LemonSqueezySignature, MissingHeaderOrSecret) {
  std::map<std::string, std::string> headers;
  SourceRequest req{&headers, "{}", {}};
  auto r = LemonSqueezySource(kLsSecret, CurrencyConverter()).Verify(req, core::Timestamp());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::ErrorCode::kUnauthenticated);
  auto u = LemonSqueezySource("", CurrencyConverter()).Verify(req, core::Timestamp());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code(), core::ErrorCode::kUnavailable);
}

// ---- Lemon Squeezy: conversion ---------------------------------------------

class LemonSqueezyConvert : public ::testing::Test {
 protected:
  LemonSqueezySource source_{kLsSecret, CurrencyConverter(std::map<std::string, std::string>{{"EUR", "1.10"}})};
  std::vector<store::ProductMapping> variant1_{Mapping("lemonsqueezy", "1")};
};

TEST_F(LemonSqueezyConvert, OrderCreatedIsAPaymentInLemonSqueezysUsd) {
  auto c = source_.Convert(testing::ReadFixture("lemonsqueezy/webhooks/order_created.lemonsqueezy-go-stub.json"),
                           variant1_);
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_EQ(c->kind, Conversion::Kind::kEvents) << c->reason;
  const auto& e = Rev(*c);
  EXPECT_EQ(e.event_id, "lemonsqueezy:payment:order:1");
  EXPECT_EQ(e.event_type, model::RevenueEventType::kPayment);
  EXPECT_EQ(e.amount_usd->micros(), 20'160'000);  // total_usd 2016 cents
  EXPECT_EQ(e.product_id, kProduct);
  EXPECT_EQ(core::FormatRfc3339(e.time).substr(0, 19), "2023-01-17T12:26:23");
  auto md = Meta(c->events[0]);
  EXPECT_EQ(md.at("original_currency").as_string(), "EUR");
  EXPECT_EQ(md.at("original_minor_units").as_int64(), 1859);
  EXPECT_EQ(md.at("mapped_by").as_string(), "1");
  EXPECT_EQ(c->provider_event_id, "order_created:orders:1");
}

TEST_F(LemonSqueezyConvert, SubscriptionEvents) {
  auto start = source_.Convert(
      testing::ReadFixture("lemonsqueezy/assembled/subscription_created.assembled.json"), variant1_);
  ASSERT_TRUE(start) << start.error().ToString();
  ASSERT_EQ(start->kind, Conversion::Kind::kEvents) << start->reason;
  EXPECT_EQ(Rev(*start).event_type, model::RevenueEventType::kSubscriptionStart);
  EXPECT_EQ(Rev(*start).event_id, "lemonsqueezy:subscription_start:1");
  EXPECT_EQ(Rev(*start).amount_usd->micros(), 0);
  EXPECT_FALSE(Meta(start->events[0]).at("amount_known").as_bool());

  // The invoice names no variant: only the provider default maps it.
  std::string invoice =
      testing::ReadFixture("lemonsqueezy/assembled/subscription_payment_success.assembled.json");
  auto unmapped = source_.Convert(invoice, variant1_);
  ASSERT_TRUE(unmapped);
  EXPECT_EQ(unmapped->kind, Conversion::Kind::kUnmapped);
  std::vector<store::ProductMapping> all{Mapping("lemonsqueezy", "*")};
  auto paid = source_.Convert(invoice, all);
  ASSERT_TRUE(paid) << paid.error().ToString();
  ASSERT_EQ(paid->kind, Conversion::Kind::kEvents) << paid->reason;
  EXPECT_EQ(Rev(*paid).event_id, "lemonsqueezy:payment:invoice:1");
  EXPECT_EQ(Rev(*paid).amount_usd->micros(), 9'990'000);
  EXPECT_EQ(Meta(paid->events[0]).at("subscription").as_string(), "1");

  // subscription_cancelled: same object, another event name.
  auto cancelled = json::parse(
      testing::ReadFixture("lemonsqueezy/assembled/subscription_created.assembled.json"));
  cancelled.at("meta").as_object()["event_name"] = "subscription_cancelled";
  cancelled.at("meta").as_object()["custom_data"].as_object()["monthly_amount_usd_cents"] = 4500;
  auto cancel = source_.Convert(json::serialize(cancelled), variant1_);
  ASSERT_TRUE(cancel) << cancel.error().ToString();
  ASSERT_EQ(cancel->kind, Conversion::Kind::kEvents) << cancel->reason;
  EXPECT_EQ(Rev(*cancel).event_type, model::RevenueEventType::kSubscriptionCancel);
  EXPECT_EQ(Rev(*cancel).event_id, "lemonsqueezy:subscription_cancel:1");
  EXPECT_EQ(Rev(*cancel).amount_usd->micros(), 45'000'000);
}

TEST_F(LemonSqueezyConvert, OrderRefundedIsNegative) {
  auto c = source_.Convert(
      testing::ReadFixture("lemonsqueezy/assembled/order_refunded.assembled-edited.json"), variant1_);
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_EQ(c->kind, Conversion::Kind::kEvents) << c->reason;
  EXPECT_EQ(Rev(*c).event_type, model::RevenueEventType::kRefund);
  // No refunded_amount: the whole total is refunded (a running total of 1199).
  EXPECT_EQ(Rev(*c).event_id, "lemonsqueezy:refund:order:1:1199");
  EXPECT_EQ(Rev(*c).amount_usd->micros(), -11'990'000);
  ASSERT_TRUE(Rev(*c).cumulative);
  EXPECT_EQ(Rev(*c).cumulative->key, "lemonsqueezy:refund:order:1");
  EXPECT_EQ(Rev(*c).cumulative->total.micros(), -11'990'000);
  EXPECT_EQ(c->provider_event_id, "order_refunded:orders:1:1199");
  EXPECT_EQ(core::FormatRfc3339(Rev(*c).time).substr(0, 19), "2023-01-20T10:00:00");
}

TEST_F(LemonSqueezyConvert, UnmappedNamesVariantAndProductAndOtherEventsAreIgnored) {
  auto c = source_.Convert(testing::ReadFixture("lemonsqueezy/webhooks/order_created.lemonsqueezy-go-stub.json"),
                           {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Conversion::Kind::kUnmapped);
  EXPECT_NE(c->reason.find("variant '1'"), std::string::npos) << c->reason;
  EXPECT_NE(c->reason.find("product:1"), std::string::npos) << c->reason;
  auto other = source_.Convert(R"({"meta":{"event_name":"license_key_created"},"data":{"type":"license-keys","id":"5","attributes":{}}})",
                               variant1_);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, Conversion::Kind::kIgnored);
  EXPECT_FALSE(source_.Convert("not json", variant1_));
}

// ---- Gumroad -----------------------------------------------------------------

TEST(GumroadForm, DecodesLikeTheRecordedDecodedCopy) {
  auto form = ParseFormUrlEncoded(testing::ReadFixture("gumroad/ping.sale.subscription.example.txt"));
  auto decoded = testing::ReadFixtureJson("gumroad/ping.sale.subscription.example.decoded.json").as_object();
  ASSERT_EQ(form.size(), decoded.size());
  for (const auto& [k, v] : decoded) {
    EXPECT_EQ(form[std::string(k)], std::string(v.as_string())) << k;
  }
}

TEST(GumroadVerify, UrlToken) {
  GumroadSource source(kGumroadToken, CurrencyConverter());
  std::map<std::string, std::string> headers;
  SourceRequest good{&headers, "", {{"token", kGumroadToken}}};
  EXPECT_TRUE(source.Verify(good, core::Timestamp()));
  SourceRequest bad{&headers, "", {{"token", "gr-url-token-8f3a2c9e"}}};
  EXPECT_FALSE(source.Verify(bad, core::Timestamp()));
  SourceRequest none{&headers, "", {}};
  EXPECT_FALSE(source.Verify(none, core::Timestamp()));
  auto unconfigured = GumroadSource("", CurrencyConverter()).Verify(good, core::Timestamp());
  ASSERT_FALSE(unconfigured);
  EXPECT_EQ(unconfigured.error().code(), core::ErrorCode::kUnavailable);
}

TEST(GumroadConvert, SaleAndRefundAndJson) {
  GumroadSource source(kGumroadToken, CurrencyConverter());
  std::vector<store::ProductMapping> m{Mapping("gumroad", "pr0duct_SEOTOOL==")};
  auto sale = source.Convert(testing::ReadFixture("gumroad/ping.sale.subscription.example.txt"), m);
  ASSERT_TRUE(sale) << sale.error().ToString();
  ASSERT_EQ(sale->kind, Conversion::Kind::kEvents) << sale->reason;
  EXPECT_EQ(Rev(*sale).event_id, "gumroad:payment:S4le_EXAMPLE_0001==");
  EXPECT_EQ(Rev(*sale).amount_usd->micros(), 29'000'000);
  EXPECT_EQ(core::FormatRfc3339(Rev(*sale).time).substr(0, 19), "2026-11-20T09:15:00");
  EXPECT_EQ(Meta(sale->events[0]).at("subscription").as_string(), "Sub_EXAMPLE_77==");

  auto refund = source.Convert(testing::ReadFixture("gumroad/ping.refund.example.txt"), m);
  ASSERT_TRUE(refund) << refund.error().ToString();
  ASSERT_EQ(refund->kind, Conversion::Kind::kEvents);
  EXPECT_EQ(Rev(*refund).event_id, "gumroad:refund:S4le_EXAMPLE_0001==");
  EXPECT_EQ(Rev(*refund).event_type, model::RevenueEventType::kRefund);
  EXPECT_EQ(Rev(*refund).amount_usd->micros(), -29'000'000);

  // The same ping as JSON (the seller's notification_content_type switch).
  auto as_json = source.Convert(testing::ReadFixture("gumroad/ping.sale.subscription.example.decoded.json"), m);
  ASSERT_TRUE(as_json) << as_json.error().ToString();
  EXPECT_EQ(Rev(*as_json).event_id, "gumroad:payment:S4le_EXAMPLE_0001==");

  auto unmapped = source.Convert(testing::ReadFixture("gumroad/ping.sale.subscription.example.txt"), {});
  ASSERT_TRUE(unmapped);
  EXPECT_EQ(unmapped->kind, Conversion::Kind::kUnmapped);
  EXPECT_NE(unmapped->reason.find("pr0duct_SEOTOOL=="), std::string::npos);
  EXPECT_FALSE(source.Convert("product_id=x&price=100", m));  // no sale_id
}

// ---- End to end, in-process server ------------------------------------------

class MoreWebhooksServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    model::Product p;
    p.id = kProduct;
    p.name = "Invoicer";
    p.type = "micro-saas";
    ASSERT_TRUE(store_->PutProduct(p));
    core::SourcesConfig config;
    config.lemonsqueezy_signing_secret = kLsSecret;
    config.gumroad_url_token = kGumroadToken;
    sources_ = SourceRegistry::FromConfig(config);
    prices_ = model::PriceTable::Defaults();
    testing::InProcessServerOptions options;
    options.configure = [this](server::Services& services) { services.sources = sources_.get(); };
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    port_ = server_->port();
    auto key = server::CreateApiKey(*store_, store::kScopeAdmin, "test",
                                    core::SystemClock::Instance().Now());
    ASSERT_TRUE(key);
    admin_ = key->secret;
  }
  void TearDown() override { server_->Stop(); }

  testing::ClientResponse Post(const std::string& target, const std::string& body,
                               const std::string& content_type,
                               std::map<std::string, std::string> headers = {}) {
    testing::HttpClient c("127.0.0.1", port_);
    auto r = c.Request("POST", target, body, content_type, headers);
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  testing::ClientResponse Ls(const std::string& body, const std::string& secret = kLsSecret) {
    return Post("/webhooks/lemonsqueezy", body, "application/json",
                {{"X-Signature", core::HmacSha256Hex(secret, body)}, {"X-Event-Name", "x"}});
  }
  testing::ClientResponse Gumroad(const std::string& body, const std::string& token = kGumroadToken) {
    return Post("/webhooks/gumroad/" + token, body, "application/x-www-form-urlencoded");
  }
  testing::ClientResponse Map(const std::string& provider, const std::string& external_id) {
    testing::HttpClient c("127.0.0.1", port_);
    c.SetBearer(admin_);
    auto r = c.Request("POST", "/v1/mappings",
                       fmt::format(R"({{"provider":"{}","external_id":"{}","product_id":"{}"}})",
                                   provider, external_id, kProduct));
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  std::int64_t Revenue() { return *store_->CountEvents(model::EventKind::kRevenue); }
  std::int64_t RevenueMicros() {
    auto q = store_->Query("SELECT COALESCE(SUM(amount_usd), 0) FROM revenue_events");
    return std::get<std::int64_t>(q->rows[0][0]);
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_{core::FromMicros(1'700'000'000'000'000)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<SourceRegistry> sources_;
  model::PriceTable prices_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::uint16_t port_ = 0;
  std::string admin_;
};

TEST_F(MoreWebhooksServerTest, LemonSqueezySignatureParkingMappingAndIdempotency) {
  std::string order = testing::ReadFixture("lemonsqueezy/webhooks/order_created.lemonsqueezy-go-stub.json");
  // Wrong secret, tampered body, missing header: 400, nothing stored or parked.
  EXPECT_EQ(Ls(order, "another-secret").status, 400);
  std::string tampered = order;
  tampered.replace(tampered.find("\"total\": 1859"), 13, "\"total\": 9999");
  EXPECT_EQ(Post("/webhooks/lemonsqueezy", tampered, "application/json",
                 {{"X-Signature", core::HmacSha256Hex(kLsSecret, order)}})
                .status,
            400);
  EXPECT_EQ(Post("/webhooks/lemonsqueezy", order, "application/json").status, 400);
  EXPECT_TRUE(store_->ListParked(true)->empty());

  // Unmapped: parked once however often delivered, stored when mapped.
  for (int i = 0; i < 3; ++i) {
    auto r = Ls(order);
    ASSERT_EQ(r.status, 202) << r.body;
  }
  EXPECT_EQ(store_->ListParked(false)->size(), 1u);
  EXPECT_EQ(Revenue(), 0);
  auto mapped = Map("lemonsqueezy", "1");
  ASSERT_EQ(mapped.status, 201) << mapped.body;
  EXPECT_EQ(json::parse(mapped.body).at("replay").at("accepted").as_int64(), 1);
  EXPECT_EQ(Revenue(), 1);
  EXPECT_TRUE(store_->ListParked(false)->empty());

  // The same delivery 3 more times: still one payment.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Ls(order).status, 200);
  EXPECT_EQ(Revenue(), 1);
  EXPECT_EQ(RevenueMicros(), 20'160'000);

  // Refund 3 times: one negative row.
  std::string refund = testing::ReadFixture("lemonsqueezy/assembled/order_refunded.assembled-edited.json");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Ls(refund).status, 200);
  EXPECT_EQ(Revenue(), 2);
  EXPECT_EQ(RevenueMicros(), 20'160'000 - 11'990'000);
}

TEST_F(MoreWebhooksServerTest, GumroadTokenParkingMappingAndIdempotency) {
  std::string sale = testing::ReadFixture("gumroad/ping.sale.subscription.example.txt");
  EXPECT_EQ(Gumroad(sale, "wrong-token").status, 400);
  EXPECT_EQ(Post("/webhooks/gumroad/", sale, "application/x-www-form-urlencoded").status / 100, 4);
  EXPECT_TRUE(store_->ListParked(true)->empty());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Gumroad(sale).status, 202);
  EXPECT_EQ(store_->ListParked(false)->size(), 1u);
  auto mapped = Map("gumroad", "pr0duct_SEOTOOL==");
  ASSERT_EQ(mapped.status, 201) << mapped.body;
  EXPECT_EQ(Revenue(), 1);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Gumroad(sale).status, 200);
  EXPECT_EQ(Revenue(), 1);
  std::string refund = testing::ReadFixture("gumroad/ping.refund.example.txt");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Gumroad(refund).status, 200);
  EXPECT_EQ(Revenue(), 2);
  EXPECT_EQ(RevenueMicros(), 0);
}

}  // namespace
}  // namespace tally::ingest
