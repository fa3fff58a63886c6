// ParseEvents: good and bad input for every table, all-or-nothing batches,
// content-hash event ids.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "core/ids.h"
#include "model/validate.h"

namespace tally::model {
namespace {

namespace json = boost::json;

constexpr const char* kProduct = "7d9f2b1e-3c4a-4b5d-8e6f-0a1b2c3d4e5f";
constexpr const char* kTask = "0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

json::object GoodLlm() {
  return json::parse(R"({"time":"2026-03-01T12:00:00Z","agent_id":"kev","model":"gpt-4o","provider":"openai",
                         "input_tokens":1000,"output_tokens":500,"latency_ms":850,"status":"success"})")
      .as_object();
}
json::object GoodRevenue() {
  return json::parse(R"({"time":"2026-03-01T12:00:00Z","product_id":"7d9f2b1e-3c4a-4b5d-8e6f-0a1b2c3d4e5f",
                         "event_type":"payment","amount_usd":"19.99"})")
      .as_object();
}
json::object GoodTask() {
  return json::parse(R"({"time":"2026-03-01T12:00:00Z","task_id":"0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                         "agent_id":"kev","task_type":"fix-bug","status":"completed"})")
      .as_object();
}
json::object GoodInfra() {
  return json::parse(R"({"time":"2026-03-01T00:00:00Z","cost_type":"hosting","provider":"hetzner",
                         "amount_usd":4.51})")
      .as_object();
}
json::object GoodGrowth() {
  return json::parse(R"({"time":"2026-03-01T12:00:00Z","product_id":"7d9f2b1e-3c4a-4b5d-8e6f-0a1b2c3d4e5f",
                         "channel":"reddit","metric":"signup"})")
      .as_object();
}

class ValidateEventsTest : public ::testing::Test {
 protected:
  core::Result<std::vector<Event>> Parse(EventKind kind, std::vector<json::value> items) {
    return ParseEvents(kind, items, prices_);
  }
  template <typename E>
  E ParseOne(EventKind kind, json::object item) {
    auto r = Parse(kind, {json::value(std::move(item))});
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r || r->size() != 1) return E{};
    return std::get<E>((*r)[0]);
  }

  // One bad item after a good one: the batch fails and the only problems are
  // on item 1, field `field`. A null `bad` removes the key instead.
  void ExpectProblem(EventKind kind, const json::object& good, const char* key, json::value bad,
                     const std::string& field) {
    json::object item = good;
    if (bad.is_null()) {
      item.erase(key);
    } else {
      item[key] = std::move(bad);
    }
    auto r = Parse(kind, {json::value(good), json::value(item)});
    ASSERT_FALSE(r) << "accepted " << json::serialize(item);
    EXPECT_EQ(r.error().code(), core::ErrorCode::kInvalidArgument);
    ASSERT_FALSE(r.error().details().empty());
    for (const core::ErrorDetail& d : r.error().details()) {
      EXPECT_EQ(d.index, 1) << r.error().ToString();
      EXPECT_EQ(d.field, field) << r.error().ToString();
      EXPECT_FALSE(d.message.empty());
    }
    EXPECT_EQ(r.error().message(), "1 invalid event in batch of 2 for " + std::string(TableName(kind)));
  }

  PriceTable prices_ = PriceTable::Defaults();
};

// A missing field is written as json::value(nullptr) below.
const json::value kMissing = nullptr;

TEST_F(ValidateEventsTest, LlmCallWithEveryFieldIsReadExactly) {
  json::object item = GoodLlm();
  item["event_id"] = "call-42";
  item["task_id"] = "0B3E5F6A-1C2D-4E5F-8A9B-0C1D2E3F4A5B";
  item["cached_tokens"] = 200;
  item["cost_usd"] = 0.012345;
  item["error_type"] = "none";
  item["reservation_id"] = "r-1";
  item["metadata"] = json::parse(R"({"b": [1, 2], "a": "x"})");
  auto e = ParseOne<LlmCall>(EventKind::kLlmCall, item);
  EXPECT_EQ(e.event_id, "call-42");
  EXPECT_EQ(core::FormatRfc3339(e.time), "2026-03-01T12:00:00Z");
  EXPECT_EQ(e.agent_id, "kev");
  EXPECT_EQ(e.task_id, kTask);
  EXPECT_EQ(e.model, "gpt-4o");
  EXPECT_EQ(e.provider, "openai");
  EXPECT_EQ(e.input_tokens, 1000);
  EXPECT_EQ(e.output_tokens, 500);
  EXPECT_EQ(e.cached_tokens, 200);
  EXPECT_EQ(e.cost_usd.micros(), 12'345);  // given, not priced
  EXPECT_EQ(e.latency_ms, 850);
  EXPECT_EQ(e.status, LlmStatus::kSuccess);
  EXPECT_EQ(e.error_type, "none");
  EXPECT_EQ(e.reservation_id, "r-1");
  EXPECT_EQ(e.metadata, R"({"b":[1,2],"a":"x"})");
}

TEST_F(ValidateEventsTest, LlmCallWithoutCostIsPricedFromThePriceTable) {
  // gpt-4o: 1000 x $2.50 + 500 x $10 per Mtok = 2500 + 5000 micro-USD.
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, GoodLlm()).cost_usd.micros(), 7500);
  json::object prefixed = GoodLlm();
  prefixed["model"] = "openai/gpt-4o";
  prefixed["cached_tokens"] = 1000;  // all input cached: 1000 x $1.25
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, prefixed).cost_usd.micros(), 1250 + 5000);
  json::object as_string = GoodLlm();
  as_string["model"] = "acme-llm";
  as_string["cost_usd"] = "0.5";
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, as_string).cost_usd.micros(), 500'000);
}

TEST_F(ValidateEventsTest, UnknownModelWithoutCostIsAProblemOnCostUsd) {
  json::object item = GoodLlm();
  item["model"] = "acme-llm-9";
  auto r = Parse(EventKind::kLlmCall, {json::value(item)});
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().details().size(), 1u);
  EXPECT_EQ(r.error().details()[0].index, 0);
  EXPECT_EQ(r.error().details()[0].field, "cost_usd");
  EXPECT_NE(r.error().details()[0].message.find("model 'acme-llm-9' is not in the price table"), std::string::npos);
}

TEST_F(ValidateEventsTest, LlmCallProblems) {
  const auto k = EventKind::kLlmCall;
  const json::object g = GoodLlm();
  ExpectProblem(k, g, "time", kMissing, "time");
  ExpectProblem(k, g, "time", "2026-03-01T12:00:00", "time");  // no zone
  ExpectProblem(k, g, "time", true, "time");
  ExpectProblem(k, g, "agent_id", "Kev Smith", "agent_id");
  ExpectProblem(k, g, "agent_id", kMissing, "agent_id");
  ExpectProblem(k, g, "task_id", "task-1", "task_id");
  ExpectProblem(k, g, "model", "", "model");
  ExpectProblem(k, g, "provider", kMissing, "provider");
  ExpectProblem(k, g, "input_tokens", 12.0, "input_tokens");  // a double is the wrong type
  ExpectProblem(k, g, "input_tokens", -1, "input_tokens");
  ExpectProblem(k, g, "input_tokens", 3'000'000'000LL, "input_tokens");
  ExpectProblem(k, g, "output_tokens", "20", "output_tokens");
  ExpectProblem(k, g, "cached_tokens", 1001, "cached_tokens");
  ExpectProblem(k, g, "cost_usd", 0.0000001, "cost_usd");  // 7 decimals
  ExpectProblem(k, g, "cost_usd", "1.2.3", "cost_usd");
  ExpectProblem(k, g, "cost_usd", -0.5, "cost_usd");
  ExpectProblem(k, g, "cost_usd", json::array{}, "cost_usd");
  ExpectProblem(k, g, "latency_ms", kMissing, "latency_ms");
  ExpectProblem(k, g, "status", "ok", "status");
  ExpectProblem(k, g, "error_type", 7, "error_type");
  ExpectProblem(k, g, "metadata", "{}", "metadata");
  ExpectProblem(k, g, "event_id", "", "event_id");
  ExpectProblem(k, g, "event_id", "tab\there", "event_id");
  ExpectProblem(k, g, "event_id", json::string(129, 'x'), "event_id");
  ExpectProblem(k, g, "tokens", 5, "tokens");  // unknown field
}

TEST_F(ValidateEventsTest, ClosedVocabularyMessageListsTheAllowedValues) {
  json::object item = GoodLlm();
  item["status"] = "ok";
  auto r = Parse(EventKind::kLlmCall, {json::value(item)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().details()[0].value, "\"ok\"");
  EXPECT_NE(r.error().details()[0].message.find("success, error, timeout, rate_limited"), std::string::npos);
}

TEST_F(ValidateEventsTest, TimesAcceptOffsetsAndEpochNumbers) {
  json::object item = GoodLlm();
  item["time"] = "2026-03-01T14:00:00.25+02:00";
  EXPECT_EQ(core::FormatRfc3339(ParseOne<LlmCall>(EventKind::kLlmCall, item).time), "2026-03-01T12:00:00.25Z");
  item["time"] = 1772366400;  // seconds
  EXPECT_EQ(core::FormatRfc3339(ParseOne<LlmCall>(EventKind::kLlmCall, item).time), "2026-03-01T12:00:00Z");
  item["time"] = 1772366400123LL;  // milliseconds
  EXPECT_EQ(core::FormatRfc3339(ParseOne<LlmCall>(EventKind::kLlmCall, item).time), "2026-03-01T12:00:00.123Z");
  item["time"] = 1772366400.5;
  EXPECT_EQ(core::FormatRfc3339(ParseOne<LlmCall>(EventKind::kLlmCall, item).time), "2026-03-01T12:00:00.5Z");
}

TEST_F(ValidateEventsTest, BatchIsAllOrNothingAndListsEveryProblem) {
  std::vector<json::value> items;
  for (int i = 0; i < 10; ++i) items.emplace_back(GoodLlm());
  items[2].as_object()["status"] = "ok";
  items[5].as_object().erase("agent_id");
  items[5].as_object()["input_tokens"] = -3;
  items[9] = json::array{1, 2};
  auto r = Parse(EventKind::kLlmCall, items);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "3 invalid events in batch of 10 for llm_calls");
  const auto& d = r.error().details();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].index, 2);
  EXPECT_EQ(d[0].field, "status");
  EXPECT_EQ(d[1].index, 5);
  EXPECT_EQ(d[1].field, "agent_id");
  EXPECT_EQ(d[2].index, 5);
  EXPECT_EQ(d[2].field, "input_tokens");
  EXPECT_EQ(d[3].index, 9);
  EXPECT_EQ(d[3].field, "");
  EXPECT_NE(d[3].message.find("JSON object"), std::string::npos);
}

TEST_F(ValidateEventsTest, EmptyBatchIsValid) {
  auto r = Parse(EventKind::kGrowth, {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST_F(ValidateEventsTest, ContentEventIdIsAStableHashOfTableAndItem) {
  // Pinned: changing the scheme would let a retry after an upgrade be stored twice.
  // "h:" + sha256("llm_calls\n" + compact item JSON)[:32].
  auto first = ParseOne<LlmCall>(EventKind::kLlmCall, GoodLlm());
  EXPECT_EQ(first.event_id, "h:2a1c65aca325a38f571100be3db2a16f");
  EXPECT_EQ(first.event_id,
            "h:" + core::Sha256Hex("llm_calls\n" + json::serialize(GoodLlm())).substr(0, 32));
  // An identical retry is the same event; any change makes another one.
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, GoodLlm()).event_id, first.event_id);
  json::object other = GoodLlm();
  other["latency_ms"] = 851;
  EXPECT_NE(ParseOne<LlmCall>(EventKind::kLlmCall, other).event_id, first.event_id);
  // The sender's id is kept as given.
  other["event_id"] = "req_abc";
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, other).event_id, "req_abc");
}

TEST_F(ValidateEventsTest, RevenueEvents) {
  auto e = ParseOne<RevenueEvent>(EventKind::kRevenue, GoodRevenue());
  EXPECT_EQ(e.product_id, kProduct);
  EXPECT_EQ(e.event_type, RevenueEventType::kPayment);
  EXPECT_EQ(e.amount_usd, core::Money::FromMicros(19'990'000));
  EXPECT_EQ(e.currency, "USD");
  EXPECT_FALSE(e.channel_id.has_value());
  json::object refund = GoodRevenue();
  refund["event_type"] = "refund";
  refund["amount_usd"] = -5;
  refund["currency"] = "EUR";
  refund["customer_id"] = "cus_123";
  refund["channel_id"] = kTask;
  auto r = ParseOne<RevenueEvent>(EventKind::kRevenue, refund);
  EXPECT_EQ(r.amount_usd, core::Money::FromMicros(-5'000'000));
  EXPECT_EQ(r.currency, "EUR");
  EXPECT_EQ(r.customer_id, "cus_123");
  EXPECT_EQ(r.channel_id, kTask);

  const auto k = EventKind::kRevenue;
  const json::object g = GoodRevenue();
  ExpectProblem(k, g, "product_id", kMissing, "product_id");
  ExpectProblem(k, g, "channel_id", "stripe", "channel_id");
  ExpectProblem(k, g, "event_type", "sale", "event_type");
  ExpectProblem(k, g, "amount_usd", "9.999", "amount_usd");  // NUMERIC(10,2)
  ExpectProblem(k, g, "amount_usd", 100'000'000, "amount_usd");
  ExpectProblem(k, g, "currency", "usd", "currency");
  ExpectProblem(k, g, "customer_id", 5, "customer_id");
  ExpectProblem(k, g, "time", "yesterday", "time");
  json::object positive_refund = GoodRevenue();
  positive_refund["event_type"] = "refund";
  positive_refund["amount_usd"] = "-19.99";
  ExpectProblem(k, positive_refund, "amount_usd", 5, "amount_usd");
}

TEST_F(ValidateEventsTest, TaskEvents) {
  json::object item = GoodTask();
  item["product_id"] = kProduct;
  item["duration_ms"] = 120000;
  item["total_cost_usd"] = "0.1234";
  item["steps_count"] = 7;
  item["quality_score"] = 0.85;
  auto e = ParseOne<TaskEvent>(EventKind::kTask, item);
  EXPECT_EQ(e.task_id, kTask);
  EXPECT_EQ(e.task_type, "fix-bug");
  EXPECT_EQ(e.status, TaskStatus::kCompleted);
  EXPECT_EQ(e.duration_ms, 120000);
  EXPECT_EQ(e.total_cost_usd, core::Money::FromMicros(123'400));
  EXPECT_EQ(e.steps_count, 7);
  EXPECT_EQ(e.quality_score_centi, 85);
  EXPECT_FALSE(ParseOne<TaskEvent>(EventKind::kTask, GoodTask()).quality_score_centi.has_value());

  const auto k = EventKind::kTask;
  const json::object g = GoodTask();
  ExpectProblem(k, g, "task_id", kMissing, "task_id");
  ExpectProblem(k, g, "agent_id", "Kev", "agent_id");
  ExpectProblem(k, g, "task_type", "Write Content", "task_type");
  ExpectProblem(k, g, "status", "done", "status");
  ExpectProblem(k, g, "duration_ms", -5, "duration_ms");
  ExpectProblem(k, g, "total_cost_usd", 0.12345, "total_cost_usd");  // NUMERIC(10,4)
  ExpectProblem(k, g, "steps_count", 2.5, "steps_count");
  ExpectProblem(k, g, "quality_score", 1.5, "quality_score");
  ExpectProblem(k, g, "quality_score", "0.855", "quality_score");
  ExpectProblem(k, g, "product_id", 12, "product_id");
}

TEST_F(ValidateEventsTest, InfraCosts) {
  auto e = ParseOne<InfraCost>(EventKind::kInfraCost, GoodInfra());
  EXPECT_EQ(e.amount_usd, core::Money::FromMicros(4'510'000));
  EXPECT_FALSE(e.product_id.has_value());  // shared infra
  json::object credit = GoodInfra();
  credit["amount_usd"] = "-1.5";
  credit["billing_period"] = "monthly";
  credit["product_id"] = kProduct;
  auto c = ParseOne<InfraCost>(EventKind::kInfraCost, credit);
  EXPECT_EQ(c.amount_usd, core::Money::FromMicros(-1'500'000));
  EXPECT_EQ(c.billing_period, "monthly");
  EXPECT_EQ(c.product_id, kProduct);

  const auto k = EventKind::kInfraCost;
  const json::object g = GoodInfra();
  ExpectProblem(k, g, "cost_type", kMissing, "cost_type");
  ExpectProblem(k, g, "provider", 42, "provider");
  ExpectProblem(k, g, "amount_usd", kMissing, "amount_usd");
  ExpectProblem(k, g, "amount_usd", 1.23456, "amount_usd");  // NUMERIC(10,4)
  ExpectProblem(k, g, "product_id", "shared", "product_id");
  ExpectProblem(k, g, "billing_period", "", "billing_period");
  ExpectProblem(k, g, "region", "eu", "region");
}

TEST_F(ValidateEventsTest, GrowthEvents) {
  EXPECT_EQ(ParseOne<GrowthEvent>(EventKind::kGrowth, GoodGrowth()).value_centi, 100);  // default 1
  json::object item = GoodGrowth();
  item["value"] = 2.5;
  EXPECT_EQ(ParseOne<GrowthEvent>(EventKind::kGrowth, item).value_centi, 250);
  item["value"] = "3";
  EXPECT_EQ(ParseOne<GrowthEvent>(EventKind::kGrowth, item).value_centi, 300);

  const auto k = EventKind::kGrowth;
  const json::object g = GoodGrowth();
  ExpectProblem(k, g, "product_id", kMissing, "product_id");
  ExpectProblem(k, g, "channel", "Reddit", "channel");
  ExpectProblem(k, g, "metric", kMissing, "metric");
  ExpectProblem(k, g, "value", "1.005", "value");
  ExpectProblem(k, g, "value", false, "value");
  ExpectProblem(k, g, "metadata", json::array{}, "metadata");
}

TEST_F(ValidateEventsTest, OpsEvents) {
  json::object good = json::parse(R"({"time":"2026-03-01T12:00:00Z","kind":"deploy","source":"github",
                                      "status":"success"})")
                          .as_object();
  auto e = ParseOne<OpsEvent>(EventKind::kOps, good);
  EXPECT_EQ(e.kind, "deploy");
  EXPECT_EQ(e.source, "github");
  EXPECT_EQ(e.status, "success");
  EXPECT_FALSE(e.product_id.has_value());  // factory-wide
  EXPECT_FALSE(e.latency_ms.has_value());
  json::object full = good;
  full["kind"] = "uptime_check";
  full["status"] = "down";
  full["product_id"] = kProduct;
  full["latency_ms"] = 1200;
  full["status_code"] = 503;
  full["repository"] = "acme/shop";
  full["metadata"] = json::object{{"url", "https://shop.example"}};
  auto f = ParseOne<OpsEvent>(EventKind::kOps, full);
  EXPECT_EQ(f.product_id, kProduct);
  EXPECT_EQ(f.latency_ms, 1200);
  EXPECT_EQ(f.status_code, 503);
  EXPECT_EQ(f.repository, "acme/shop");
  EXPECT_TRUE(IsOpsFailure(f.status));
  EXPECT_FALSE(IsOpsFailure("success"));
  json::value rendered = ToJson(Event(f));
  EXPECT_EQ(rendered.at("status_code"), 503);
  auto back = ParseOne<OpsEvent>(EventKind::kOps, rendered.as_object());
  EXPECT_EQ(back.event_id, f.event_id);
  EXPECT_EQ(back.metadata, f.metadata);
  EXPECT_EQ(TableName(EventKind::kOps), "ops_events");
  EXPECT_EQ(ParseTableName("ops_events"), EventKind::kOps);

  const auto k = EventKind::kOps;
  ExpectProblem(k, good, "kind", kMissing, "kind");
  ExpectProblem(k, good, "kind", "Deploy", "kind");
  ExpectProblem(k, good, "source", kMissing, "source");
  ExpectProblem(k, good, "status", kMissing, "status");
  ExpectProblem(k, good, "latency_ms", -1, "latency_ms");
  ExpectProblem(k, good, "status_code", 1000, "status_code");
  ExpectProblem(k, good, "repository", "", "repository");
  ExpectProblem(k, good, "product_id", "shop", "product_id");
  ExpectProblem(k, good, "region", "eu", "region");
}

TEST_F(ValidateEventsTest, RenderedEventsParseBackToTheSameEvent) {
  json::object item = GoodTask();
  item["total_cost_usd"] = 0.5;
  item["quality_score"] = "0.9";
  item["metadata"] = json::object{{"pr", 12}};
  auto task = ParseOne<TaskEvent>(EventKind::kTask, item);
  json::value rendered = ToJson(Event(task));
  EXPECT_EQ(rendered.at("total_cost_usd"), "0.50");
  EXPECT_EQ(rendered.at("quality_score"), "0.90");
  EXPECT_EQ(rendered.at("duration_ms"), nullptr);
  EXPECT_EQ(rendered.at("metadata").at("pr"), 12);
  auto back = ParseOne<TaskEvent>(EventKind::kTask, rendered.as_object());
  EXPECT_EQ(back.event_id, task.event_id);
  EXPECT_EQ(back.total_cost_usd, task.total_cost_usd);
  EXPECT_EQ(back.quality_score_centi, 90);
  EXPECT_EQ(back.metadata, task.metadata);

  auto call = ParseOne<LlmCall>(EventKind::kLlmCall, GoodLlm());
  json::value call_json = ToJson(Event(call));
  EXPECT_EQ(call_json.at("cost_usd"), "0.0075");
  EXPECT_EQ(call_json.at("time"), "2026-03-01T12:00:00Z");
  EXPECT_EQ(ParseOne<LlmCall>(EventKind::kLlmCall, call_json.as_object()).cost_usd, call.cost_usd);
}

}  // namespace
}  // namespace tally::model
