// POST /webhooks/stripe end to end in-process (real sockets, SQLite, pipeline)
// with the recorded Stripe payloads: signature, parking, mapping and replay,
// idempotency; plus `tally parked` / `tally mappings` on the real binary.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include "ingest/pipeline.h"
#include "ingest/sources/source_registry.h"
#include "ingest/sources/stripe_signature.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"
#include "unit/sources/fixtures.h"

namespace tally::server {
namespace {

namespace json = boost::json;
using testing::HttpClient;

constexpr const char* kProduct = "7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11";
constexpr const char* kSecret = "whsec_current_secret";
constexpr const char* kOldSecret = "whsec_rotated_out_soon";
constexpr std::int64_t kNow = 1'700'000'000;

std::string Event(const std::string& name) {
  return testing::ReadFixture("stripe/events/" + name + ".supabase-stripe-sync-engine.json");
}

class WebhookServerTest : public ::testing::Test {
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
    config.stripe_webhook_secrets = {kSecret, kOldSecret};
    config.usd_per_unit = {{"EUR", "1.10"}};
    sources_ = ingest::SourceRegistry::FromConfig(config);
    prices_ = model::PriceTable::Defaults();
    testing::InProcessServerOptions options;
    options.configure = [this](Services& services) { services.sources = sources_.get(); };
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    port_ = server_->port();
    auto key = CreateApiKey(*store_, store::kScopeAdmin, "test", core::SystemClock::Instance().Now());
    ASSERT_TRUE(key);
    admin_ = key->secret;
  }
  void TearDown() override {
    server_->Stop();
  }

  testing::ClientResponse Deliver(const std::string& body, const std::string& secret = kSecret,
                                  std::int64_t signed_at = kNow) {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Request("POST", "/webhooks/stripe", body, "application/json",
                       {{"Stripe-Signature", ingest::StripeTestHeader(body, secret, signed_at)}});
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  testing::ClientResponse Admin(const std::string& method, const std::string& target,
                                const std::string& body = "") {
    HttpClient c("127.0.0.1", port_);
    c.SetBearer(admin_);
    auto r = c.Request(method, target, body);
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  std::int64_t Revenue() { return *store_->CountEvents(model::EventKind::kRevenue); }
  std::string MapAll() {
    return fmt::format(R"({{"provider":"stripe","external_id":"*","product_id":"{}"}})", kProduct);
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_{core::FromMicros(kNow * 1'000'000 + 30'000'000)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ingest::SourceRegistry> sources_;
  model::PriceTable prices_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::uint16_t port_ = 0;
  std::string admin_;
};

TEST_F(WebhookServerTest, UnmappedPaymentIsParkedListedAndStoredWhenTheMappingArrives) {
  auto r = Deliver(Event("payment_intent.succeeded"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body).at("status").as_string(), "parked");
  EXPECT_EQ(Revenue(), 0);

  auto listed = Admin("GET", "/v1/parked");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto items = json::parse(listed.body).at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("provider_event_id").as_string(), "evt_1IlYUUJDPojXS6LN7NEWYSm2");
  EXPECT_NE(std::string(items[0].at("reason").as_string()).find("no product mapping"), std::string::npos);

  auto mapped = Admin("POST", "/v1/mappings", MapAll());
  ASSERT_EQ(mapped.status, 201) << mapped.body;
  EXPECT_EQ(json::parse(mapped.body).at("replay").at("accepted").as_int64(), 1);
  EXPECT_EQ(Revenue(), 1);
  EXPECT_TRUE(json::parse(Admin("GET", "/v1/parked").body).at("items").as_array().empty());
  auto sum = store_->Query("SELECT amount_usd, product_id FROM revenue_events");
  ASSERT_TRUE(sum);
  EXPECT_EQ(std::get<std::int64_t>(sum->rows[0][0]), 10'000'000);
}

TEST_F(WebhookServerTest, SameWebhookDeliveredThreeTimesCountsOnce) {
  ASSERT_EQ(Admin("POST", "/v1/mappings", MapAll()).status, 201);
  std::string body = Event("charge.refunded");
  for (int i = 0; i < 3; ++i) {
    auto r = Deliver(body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).at("accepted").as_int64(), i == 0 ? 1 : 0);
  }
  EXPECT_EQ(Revenue(), 1);
}

TEST_F(WebhookServerTest, PaymentIntentAndCheckoutOfOnePaymentCountOnce) {
  ASSERT_EQ(Admin("POST", "/v1/mappings", MapAll()).status, 201);
  ASSERT_EQ(Deliver(Event("checkout.session.completed")).status, 200);
  auto second = Deliver(Event("payment_intent.succeeded"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json::parse(second.body).at("duplicates").as_int64(), 1);
  EXPECT_EQ(Revenue(), 1);
}

TEST_F(WebhookServerTest, ParkedTwiceIsParkedOnce) {
  std::string body = Event("payment_intent.succeeded");
  ASSERT_EQ(Deliver(body).status, 202);
  auto again = Deliver(body);
  ASSERT_EQ(again.status, 202);
  EXPECT_TRUE(json::parse(again.body).at("duplicate").as_bool());
  EXPECT_EQ(json::parse(Admin("GET", "/v1/parked").body).at("items").as_array().size(), 1u);
}

TEST_F(WebhookServerTest, BadSignaturesAre400AndStoreNothing) {
  ASSERT_EQ(Admin("POST", "/v1/mappings", MapAll()).status, 201);
  std::string body = Event("payment_intent.succeeded");
  std::string tampered = body;
  tampered.replace(tampered.find("\"amount\": 1000"), 14, "\"amount\": 9999");
  {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Request("POST", "/webhooks/stripe", tampered, "application/json",
                       {{"Stripe-Signature", ingest::StripeTestHeader(body, kSecret, kNow)}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
  }
  EXPECT_EQ(Deliver(body, "whsec_wrong").status, 400);
  auto stale = Deliver(body, kSecret, kNow - 300);  // 330 s old at the clock's now
  EXPECT_EQ(stale.status, 400);
  EXPECT_NE(stale.body.find("tolerance"), std::string::npos) << stale.body;
  {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Request("POST", "/webhooks/stripe", body, "application/json", {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
  }
  EXPECT_EQ(Revenue(), 0);
  EXPECT_TRUE(store_->ListParked(true)->empty());
  // The same body with a fresh signature from the rotated-out secret passes.
  EXPECT_EQ(Deliver(body, kOldSecret).status, 200);
  EXPECT_EQ(Revenue(), 1);
}

TEST_F(WebhookServerTest, ReplayedSignedRequestIsADuplicateNotASecondPayment) {
  ASSERT_EQ(Admin("POST", "/v1/mappings", MapAll()).status, 201);
  std::string body = Event("payment_intent.succeeded");
  ASSERT_EQ(Deliver(body).status, 200);
  clock_.Advance(std::chrono::seconds(200));  // still inside the window
  auto replay = Deliver(body);
  ASSERT_EQ(replay.status, 200);
  EXPECT_EQ(json::parse(replay.body).at("duplicates").as_int64(), 1);
  clock_.Advance(std::chrono::seconds(100));  // now past it
  EXPECT_EQ(Deliver(body).status, 400);
  EXPECT_EQ(Revenue(), 1);
}

TEST_F(WebhookServerTest, IgnoredTypesAreAcknowledged) {
  auto r = Deliver(Event("charge.succeeded"));  // belongs to an invoice
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("status").as_string(), "ignored");
  EXPECT_EQ(Revenue(), 0);
}

TEST_F(WebhookServerTest, MappingsAreValidatedAndNeedAdmin) {
  EXPECT_EQ(Admin("POST", "/v1/mappings", R"({"provider":"stripe","external_id":"*","product_id":"nope"})").status,
            400);
  EXPECT_EQ(Admin("POST", "/v1/mappings", R"({"provider":"paypal","external_id":"*","product_id":"7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11"})").status,
            400);
  EXPECT_EQ(Admin("POST", "/v1/mappings",
                  R"({"provider":"stripe","external_id":"*","product_id":"00000000-0000-4000-8000-000000000000"})")
                .status,
            409);
  HttpClient anon("127.0.0.1", port_);
  EXPECT_EQ(anon.Post("/v1/mappings", MapAll())->status, 401);
  ASSERT_EQ(Admin("POST", "/v1/mappings", MapAll()).status, 201);
  auto listed = json::parse(Admin("GET", "/v1/mappings?provider=stripe").body).at("items").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("product_id").as_string(), kProduct);
}

// The CLI on the real binary: list parked deliveries, add a mapping, replay.
TEST(ParkedCliTest, ListAndMapFromTheCommandLine) {
  testing::TempDir dir;
  {
    auto store = store::SqliteStore::Open(dir.str());
    ASSERT_TRUE(store);
    model::Product p;
    p.id = kProduct;
    p.name = "Invoicer";
    p.type = "micro-saas";
    ASSERT_TRUE((*store)->PutProduct(p));
    core::SourcesConfig config;
    auto sources = ingest::SourceRegistry::FromConfig(config);
    store::ParkedEvent parked{0, "stripe", "evt_1IlYUUJDPojXS6LN7NEWYSm2", "payment_intent.succeeded",
                              "no product mapping", Event("payment_intent.succeeded"),
                              core::FromMicros(kNow * 1'000'000), std::nullopt};
    ASSERT_TRUE((*store)->ParkEvent(parked, sources->resolver()));
  }
  auto run = [&](const std::string& args) {
    std::string cmd = std::string(TALLY_BINARY) + " " + args + " --data " + dir.str() + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    int rc = pclose(pipe);
    return std::pair{WEXITSTATUS(rc), out};
  };
  auto [rc, out] = run("parked list");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("evt_1IlYUUJDPojXS6LN7NEWYSm2"), std::string::npos) << out;
  auto [rc2, out2] = run(std::string("mappings add --provider stripe --external-id '*' --product ") + kProduct);
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("replayed 1 parked (1 events stored"), std::string::npos) << out2;
  auto [rc3, out3] = run("parked list");
  EXPECT_EQ(out3.find("evt_1IlYUUJDPojXS6LN7NEWYSm2"), std::string::npos) << out3;
  auto [rc4, out4] = run("sql --json \"SELECT count(*) FROM revenue_events\"");
  EXPECT_NE(out4.find("[[1]]"), std::string::npos) << out4;
}

}  // namespace
}  // namespace tally::server

namespace tally::server {
namespace {

TEST_F(WebhookServerTest, LiteLlmCallbackNeedsAnIngestKeyAndIsIdempotent) {
  std::string body = testing::ReadFixture("litellm/standard_logging_payload.litellm-tests-gcs_pub_sub.json");
  HttpClient anon("127.0.0.1", port_);
  EXPECT_EQ(anon.Post("/v1/integrations/litellm", body)->status, 401);
  for (int i = 0; i < 3; ++i) {
    auto r = Admin("POST", "/v1/integrations/litellm", "[" + body + "]");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).at("accepted").as_int64(), i == 0 ? 1 : 0);
  }
  EXPECT_EQ(*store_->CountEvents(model::EventKind::kLlmCall), 1);
  EXPECT_EQ(Admin("POST", "/v1/integrations/litellm", R"({"id":"x"})").status, 400);
}

}  // namespace
}  // namespace tally::server
