// StripeSource::Convert on the recorded Stripe events (fixtures/stripe/events):
// which revenue event each becomes, its amount, key and product.
#include "ingest/sources/stripe_source.h"

#include <gtest/gtest.h>

#include "unit/sources/fixtures.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;
using Kind = Conversion::Kind;

constexpr const char* kProduct = "7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11";
constexpr const char* kOther = "11111111-2222-4333-8444-555555555555";

std::string Event(const std::string& name) {
  return testing::ReadFixture("stripe/events/" + name + ".supabase-stripe-sync-engine.json");
}

store::ProductMapping Map(std::string external_id, std::string product = kProduct) {
  return {"stripe", std::move(external_id), std::move(product), std::nullopt, {}};
}

class StripeSourceTest : public ::testing::Test {
 protected:
  Conversion Convert(const std::string& body, std::vector<store::ProductMapping> mappings) {
    auto c = source_.Convert(body, mappings);
    EXPECT_TRUE(c) << c.error().ToString();
    return c ? *c : Conversion{};
  }
  static const model::RevenueEvent& Revenue(const Conversion& c) {
    return std::get<model::RevenueEvent>(c.events.at(0));
  }
  StripeSource source_{{{"whsec_test"}, std::chrono::seconds(300)}, CurrencyConverter(std::map<std::string, std::string>{{"EUR", "1.08"}})};
};

TEST_F(StripeSourceTest, PaymentIntentWithoutMappingIsParkedSayingWhatToMap) {
  auto c = Convert(Event("payment_intent.succeeded"), {});
  EXPECT_EQ(c.kind, Kind::kUnmapped);
  EXPECT_EQ(c.provider_event_id, "evt_1IlYUUJDPojXS6LN7NEWYSm2");
  EXPECT_NE(c.reason.find("\"*\""), std::string::npos) << c.reason;
}

TEST_F(StripeSourceTest, PaymentIntentKeysOnTheIntentAndKeysOnTypeNotStatus) {
  // The fixture's object says requires_payment_method; the type is what counts.
  auto c = Convert(Event("payment_intent.succeeded"), {Map("*")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  const auto& e = Revenue(c);
  EXPECT_EQ(e.event_id, "stripe:payment:pi_1IqxJOJDPojXS6LN9uOebAea");
  EXPECT_EQ(e.event_type, model::RevenueEventType::kPayment);
  EXPECT_EQ(e.amount_usd->ToString(), "10.00");
  EXPECT_EQ(e.product_id, kProduct);
  EXPECT_EQ(core::FormatRfc3339(e.time), "2021-04-29T11:57:10Z");
}

TEST_F(StripeSourceTest, CheckoutSessionSharesThePaymentKeySoItIsNotCountedTwice) {
  // The checkout fixture's payment_intent is the payment_intent fixture's id.
  auto c = Convert(Event("checkout.session.completed"), {Map("*")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  const auto& e = Revenue(c);
  EXPECT_EQ(e.event_id, "stripe:payment:pi_1IqxJOJDPojXS6LN9uOebAea");
  EXPECT_EQ(e.amount_usd->ToString(), "10.79");  // EUR 9.99 at 1.08
  EXPECT_EQ(e.currency, "USD");
  auto meta = json::parse(e.metadata).as_object();
  EXPECT_EQ(meta["original_currency"].as_string(), "EUR");
  EXPECT_EQ(meta["original_amount"].as_string(), "9.99");
  EXPECT_EQ(meta["fx_usd_per_unit"].as_string(), "1.08");
  EXPECT_EQ(e.customer_id, "cus_IhGfebO16cMIGN");
}

TEST_F(StripeSourceTest, CurrencyWithoutRateIsParkedNotGuessed) {
  StripeSource no_rates{{{"whsec_test"}, std::chrono::seconds(300)}, CurrencyConverter()};
  auto c = no_rates.Convert(Event("checkout.session.completed"), std::vector{Map("*")});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::kUnmapped);
  EXPECT_NE(c->reason.find("EUR"), std::string::npos) << c->reason;
}

TEST_F(StripeSourceTest, ChargeOfAnInvoiceIsLeftToInvoicePaid) {
  auto c = Convert(Event("charge.succeeded"), {Map("*")});
  EXPECT_EQ(c.kind, Kind::kIgnored);
  EXPECT_NE(c.reason.find("in_1KJdKkJDPojXS6LNSwSWkZSN"), std::string::npos) << c.reason;
}

TEST_F(StripeSourceTest, StandaloneChargeKeysOnItsPaymentIntent) {
  auto evt = json::parse(Event("charge.succeeded"));
  evt.at("data").at("object").as_object()["invoice"] = nullptr;
  auto c = Convert(json::serialize(evt), {Map("*")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  EXPECT_EQ(Revenue(c).event_id, "stripe:payment:pi_3KtQThJDPojXS6LN0H9EfsjV");
  EXPECT_EQ(Revenue(c).amount_usd->ToString(), "30.00");
}

TEST_F(StripeSourceTest, ZeroAmountInvoiceIsIgnored) {
  auto c = Convert(Event("invoice.paid"), {Map("*")});
  EXPECT_EQ(c.kind, Kind::kIgnored);
}

TEST_F(StripeSourceTest, PaidInvoiceIsAPaymentMappedByItsPrice) {
  auto evt = json::parse(Event("invoice.paid"));
  auto& inv = evt.at("data").at("object").as_object();
  inv["amount_paid"] = 4900;
  inv["payment_intent"] = "pi_sub_1";
  auto c = Convert(json::serialize(evt), {Map("*", kOther), Map("price_1IDQm5JDPojXS6LNM31hxKzp")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  const auto& e = Revenue(c);
  EXPECT_EQ(e.event_id, "stripe:payment:pi_sub_1");
  EXPECT_EQ(e.amount_usd->ToString(), "49.00");
  EXPECT_EQ(e.product_id, kProduct);  // the price mapping wins over the default
  auto meta = json::parse(e.metadata).as_object();
  EXPECT_EQ(meta["subscription"].as_string(), "sub_JsuPyCPhXWfZar");
}

TEST_F(StripeSourceTest, SubscriptionCreatedStartsWithTheMonthlyAmountOfAnnualPlans) {
  auto evt = json::parse(Event("customer.subscription.created"));
  for (auto& item : evt.at("data").at("object").at("items").at("data").as_array()) {
    auto& price = item.at("price").as_object();
    price["unit_amount"] = 12000;  // $120 a year
    price.at("recurring").as_object()["interval"] = "year";
  }
  auto c = Convert(json::serialize(evt), {Map("prod_Ip4vqwv3EJ7Mi0")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  const auto& e = Revenue(c);
  EXPECT_EQ(e.event_type, model::RevenueEventType::kSubscriptionStart);
  EXPECT_EQ(e.event_id, "stripe:subscription_start:sub_JdIzvfy6o5GZRd");
  // Two items (one without quantity: 1) of $120/year = $20/month.
  EXPECT_EQ(e.amount_usd->ToString(), "20.00");
}

TEST_F(StripeSourceTest, CancelAtPeriodEndAndDeletionAreOneCancellation) {
  auto deleted = Convert(Event("customer.subscription.deleted"), {Map("*")});
  ASSERT_EQ(deleted.kind, Kind::kEvents) << deleted.reason;
  EXPECT_EQ(Revenue(deleted).event_type, model::RevenueEventType::kSubscriptionCancel);
  EXPECT_EQ(Revenue(deleted).event_id, "stripe:subscription_cancel:sub_JdIzvfy6o5GZRd");

  auto evt = json::parse(Event("customer.subscription.created"));
  evt.as_object()["type"] = "customer.subscription.updated";
  evt.at("data").at("object").as_object()["cancel_at_period_end"] = true;
  evt.at("data").as_object()["previous_attributes"] = json::object{{"cancel_at_period_end", false}};
  auto updated = Convert(json::serialize(evt), {Map("*")});
  ASSERT_EQ(updated.kind, Kind::kEvents) << updated.reason;
  EXPECT_EQ(Revenue(updated).event_id, Revenue(deleted).event_id);

  evt.at("data").at("object").as_object()["cancel_at_period_end"] = false;
  EXPECT_EQ(Convert(json::serialize(evt), {Map("*")}).kind, Kind::kIgnored);
}

TEST_F(StripeSourceTest, RefundIsNegativeAndKeyedByRefundId) {
  auto c = Convert(Event("charge.refunded"), {Map("*")});
  ASSERT_EQ(c.kind, Kind::kEvents) << c.reason;
  const auto& e = Revenue(c);
  EXPECT_EQ(e.event_type, model::RevenueEventType::kRefund);
  EXPECT_EQ(e.amount_usd->ToString(), "-25.00");
  EXPECT_EQ(e.event_id, "stripe:refund:re_3Kl36gJDPojXS6LN0eP4yPDz");
}

TEST_F(StripeSourceTest, UncountedTypesAreIgnoredAndGarbageIsAnError) {
  auto evt = json::parse(Event("charge.succeeded"));
  evt.as_object()["type"] = "customer.created";
  EXPECT_EQ(Convert(json::serialize(evt), {}).kind, Kind::kIgnored);
  EXPECT_FALSE(source_.Convert("not json", {}));
  EXPECT_FALSE(source_.Convert(R"({"id":"evt_1"})", {}));
}

}  // namespace
}  // namespace tally::ingest
