// ParseProduct / ParseAgent / ParseChannel: create, update, problems, rendering.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/ids.h"
#include "model/validate.h"

namespace tally::model {
namespace {

namespace json = boost::json;

const core::Timestamp kNow = core::FromMicros(1'772'366'400'000'000);  // 2026-03-01T12:00:00Z
constexpr const char* kProductId = "7d9f2b1e-3c4a-4b5d-8e6f-0a1b2c3d4e5f";

// The fields named by an error's details, in order.
std::vector<std::string> Fields(const core::Error& e) {
  std::vector<std::string> out;
  for (const auto& d : e.details()) {
    EXPECT_EQ(d.index, -1);
    out.push_back(d.field);
  }
  return out;
}
using Strings = std::vector<std::string>;

TEST(ParseProductTest, CreatesWithGeneratedIdAndDefaults) {
  auto p = ParseProduct(json::parse(R"({"name":"Invoice Bot","type":"micro-saas","monthly_cost":29,
                                         "launched_at":"2026-02-01T00:00:00Z","metadata":{"repo":"x"}})"),
                        nullptr, "", kNow);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_TRUE(core::IsUuid(p->id));
  EXPECT_EQ(p->name, "Invoice Bot");
  EXPECT_EQ(p->type, "micro-saas");
  EXPECT_EQ(p->status, "active");
  EXPECT_EQ(p->monthly_cost, core::Money::FromMicros(29'000'000));
  EXPECT_EQ(core::FormatRfc3339(*p->launched_at), "2026-02-01T00:00:00Z");
  EXPECT_EQ(p->metadata, R"({"repo":"x"})");
  EXPECT_EQ(p->created_at, kNow);

  json::value j = ToJson(*p);
  EXPECT_EQ(j.at("monthly_cost"), "29.00");
  EXPECT_EQ(j.at("revenue_model"), nullptr);
  EXPECT_EQ(j.at("launched_at"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(j.at("created_at"), "2026-03-01T12:00:00Z");
  EXPECT_EQ(j.at("metadata").at("repo"), "x");
}

TEST(ParseProductTest, PathIdWinsAndIsLowercased) {
  auto p = ParseProduct(json::parse(R"({"name":"A","type":"api"})"), nullptr,
                        "7D9F2B1E-3C4A-4B5D-8E6F-0A1B2C3D4E5F", kNow);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, kProductId);
  auto mismatch = ParseProduct(json::parse(R"({"id":"00000000-0000-4000-8000-000000000000","name":"A","type":"api"})"),
                               nullptr, kProductId, kNow);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(Fields(mismatch.error()), Strings{"id"});
  auto bad_path = ParseProduct(json::parse(R"({"name":"A","type":"api"})"), nullptr, "product-1", kNow);
  ASSERT_FALSE(bad_path);
  EXPECT_EQ(Fields(bad_path.error()), Strings{"id"});
}

TEST(ParseProductTest, ListsEveryProblem) {
  auto p = ParseProduct(json::parse(R"({"type":"Micro SaaS","monthly_cost":"9.999","colour":"red"})"), nullptr, "",
                        kNow);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(Fields(p.error()), (Strings{"colour", "name", "type", "monthly_cost"}));
  EXPECT_NE(p.error().message().find("name is required"), std::string::npos) << p.error().message();
  EXPECT_FALSE(ParseProduct(json::parse("[1]"), nullptr, "", kNow));
}

TEST(ParseProductTest, UpdateKeepsAbsentFieldsAndNullClearsOptionalOnes) {
  Product stored = *ParseProduct(json::parse(R"({"name":"A","type":"api","revenue_model":"usage",
                                                 "launched_at":1767225600})"),
                                 nullptr, kProductId, kNow);
  auto updated = ParseProduct(json::parse(R"({"status":"sunset","launched_at":null,"created_at":"x"})"), &stored,
                              kProductId, kNow + std::chrono::hours(1));
  ASSERT_TRUE(updated) << updated.error().ToString();
  EXPECT_EQ(updated->name, "A");
  EXPECT_EQ(updated->revenue_model, "usage");
  EXPECT_EQ(updated->status, "sunset");
  EXPECT_FALSE(updated->launched_at.has_value());
  EXPECT_EQ(updated->created_at, kNow);  // server-set, kept
  auto cleared = ParseProduct(json::parse(R"({"name":null})"), &stored, kProductId, kNow);
  ASSERT_FALSE(cleared);
  EXPECT_EQ(Fields(cleared.error()), Strings{"name"});
}

TEST(ParseAgentTest, CreatesFromPathOrBody) {
  auto a = ParseAgent(json::parse(R"({"role":"builder","default_model":"claude-opus-4-6","daily_budget":"25.50"})"),
                      nullptr, "kev", kNow);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(a->id, "kev");
  EXPECT_EQ(a->role, "builder");
  EXPECT_EQ(a->default_model, "claude-opus-4-6");
  EXPECT_EQ(a->daily_budget, core::Money::FromMicros(25'500'000));
  EXPECT_EQ(a->status, "active");
  json::value j = ToJson(*a);
  EXPECT_EQ(j.at("daily_budget"), "25.50");
  EXPECT_EQ(j.at("metadata"), nullptr);

  auto from_body = ParseAgent(json::parse(R"({"id":"research-agent","role":"analytics"})"), nullptr, "", kNow);
  ASSERT_TRUE(from_body);
  EXPECT_EQ(from_body->id, "research-agent");
}

TEST(ParseAgentTest, Problems) {
  auto no_id = ParseAgent(json::parse(R"({"role":"builder"})"), nullptr, "", kNow);
  ASSERT_FALSE(no_id);
  EXPECT_EQ(Fields(no_id.error()), Strings{"id"});
  auto bad = ParseAgent(json::parse(R"({"role":"Builder","daily_budget":12.345,"status":7})"), nullptr, "kev", kNow);
  ASSERT_FALSE(bad);
  EXPECT_EQ(Fields(bad.error()), (Strings{"role", "daily_budget", "status"}));
  auto negative = ParseAgent(json::parse(R"({"role":"ops","daily_budget":-1})"), nullptr, "kev", kNow);
  ASSERT_FALSE(negative);
  EXPECT_EQ(Fields(negative.error()), Strings{"daily_budget"});
  auto bad_path = ParseAgent(json::parse(R"({"role":"ops"})"), nullptr, "Kev!", kNow);
  ASSERT_FALSE(bad_path);
  EXPECT_EQ(Fields(bad_path.error()), Strings{"id"});
}

TEST(ParseAgentTest, UpdatePausesWithoutTouchingTheRest) {
  Agent stored = *ParseAgent(json::parse(R"({"role":"builder","daily_budget":10})"), nullptr, "kev", kNow);
  auto paused = ParseAgent(json::parse(R"({"status":"paused"})"), &stored, "kev", kNow);
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->status, "paused");
  EXPECT_EQ(paused->role, "builder");
  EXPECT_EQ(paused->daily_budget, core::Money::FromMicros(10'000'000));
  auto unlimited = ParseAgent(json::parse(R"({"daily_budget":null})"), &stored, "kev", kNow);
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(unlimited->daily_budget.has_value());
}

TEST(ParseChannelTest, CreatesAndRenders) {
  auto c = ParseChannel(json::parse(R"({"channel_type":"stripe","product_id":"7D9F2B1E-3C4A-4B5D-8E6F-0A1B2C3D4E5F",
                                        "channel_config":{"account":"acct_1"}})"),
                        nullptr, "", kNow);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_TRUE(core::IsUuid(c->id));
  EXPECT_EQ(c->product_id, kProductId);
  EXPECT_EQ(c->channel_type, "stripe");
  EXPECT_EQ(c->channel_config, R"({"account":"acct_1"})");
  json::value j = ToJson(*c);
  EXPECT_EQ(j.at("channel_config").at("account"), "acct_1");
  EXPECT_EQ(j.at("product_id"), kProductId);

  auto shared = ParseChannel(json::parse(R"({"channel_type":"adsense"})"), nullptr, "", kNow);
  ASSERT_TRUE(shared);
  EXPECT_EQ(ToJson(*shared).at("product_id"), nullptr);
  EXPECT_NE(shared->id, c->id);
}

TEST(ParseChannelTest, Problems) {
  auto c = ParseChannel(json::parse(R"({"product_id":"prod-1","channel_config":"secret"})"), nullptr, "", kNow);
  ASSERT_FALSE(c);
  EXPECT_EQ(Fields(c.error()), (Strings{"product_id", "channel_type", "channel_config"}));
}

}  // namespace
}  // namespace tally::model
