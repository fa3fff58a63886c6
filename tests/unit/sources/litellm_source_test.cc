// LiteLLMSource on the recorded StandardLoggingPayload
// (fixtures/litellm/standard_logging_payload...json).
#include "ingest/sources/litellm_source.h"

#include <gtest/gtest.h>

#include "unit/sources/fixtures.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;

json::value Payload() {
  return testing::ReadFixtureJson("litellm/standard_logging_payload.litellm-tests-gcs_pub_sub.json");
}

model::LlmCall One(const LiteLlmSource& source, const json::value& item) {
  std::vector<json::value> items = {item};
  auto events = source.ConvertItems(items);
  EXPECT_TRUE(events) << events.error().ToString();
  return events ? std::get<model::LlmCall>(events->at(0)) : model::LlmCall{};
}

TEST(LiteLlmSourceTest, RecordedPayloadBecomesOneLlmCall) {
  LiteLlmSource source;
  auto call = One(source, Payload());
  EXPECT_EQ(call.event_id, "litellm:chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f");
  EXPECT_EQ(call.model, "gpt-4o");
  EXPECT_EQ(call.provider, "openai");
  EXPECT_EQ(call.input_tokens, 10);
  EXPECT_EQ(call.output_tokens, 20);
  EXPECT_EQ(call.cached_tokens, 0);
  EXPECT_EQ(call.cost_usd.micros(), 225);  // 0.00022500000000000002 rounded
  EXPECT_EQ(call.latency_ms, 5);           // 46.851954 - 46.847371 s
  EXPECT_EQ(core::FormatRfc3339(call.time), "2025-01-24T09:20:46.847371Z");
  EXPECT_EQ(call.status, model::LlmStatus::kSuccess);
  EXPECT_FALSE(call.error_type);
  EXPECT_EQ(call.agent_id, "unattributed");  // every key field is null in the recording
}

TEST(LiteLlmSourceTest, AgentFromKeyAliasElseRequesterMetadata) {
  LiteLlmSource source;
  auto p = Payload();
  auto& meta = p.at("metadata").as_object();
  meta["requester_metadata"] = json::object{{"agent_id", "kev"},
                                            {"task_id", "7B0C2A4E-0A6B-4C3E-9A51-0D7F3E2A9B11"},
                                            {"reservation_id", "res_42"}};
  auto from_requester = One(source, p);
  EXPECT_EQ(from_requester.agent_id, "kev");
  EXPECT_EQ(from_requester.task_id, "7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11");
  EXPECT_EQ(from_requester.reservation_id, "res_42");
  meta["user_api_key_alias"] = "mae";
  EXPECT_EQ(One(source, p).agent_id, "mae");

  LiteLlmSource configured("requester_metadata.agent");
  meta["requester_metadata"].as_object()["agent"] = "dash";
  EXPECT_EQ(One(configured, p).agent_id, "dash");
}

TEST(LiteLlmSourceTest, FailuresCarryStatusAndErrorType) {
  LiteLlmSource source;
  auto p = Payload();
  p.as_object()["status"] = "failure";
  p.at("error_information").as_object()["error_class"] = "RateLimitError";
  auto limited = One(source, p);
  EXPECT_EQ(limited.status, model::LlmStatus::kRateLimited);
  EXPECT_EQ(limited.error_type, "RateLimitError");
  p.at("error_information").as_object()["error_class"] = "BadRequestError";
  EXPECT_EQ(One(source, p).status, model::LlmStatus::kError);
}

TEST(LiteLlmSourceTest, CachedTokensAndEpochTimes) {
  LiteLlmSource source;
  auto p = Payload();
  p.as_object()["startTime"] = 1737710446.5;
  p.as_object()["endTime"] = 1737710447.75;
  p.at("response").at("usage").as_object()["prompt_tokens_details"] = json::object{{"cached_tokens", 8}};
  auto call = One(source, p);
  EXPECT_EQ(call.cached_tokens, 8);
  EXPECT_EQ(call.latency_ms, 1250);
}

TEST(LiteLlmSourceTest, ListIsAllOrNothingWithTheBadIndexNamed) {
  LiteLlmSource source;
  auto bad = Payload();
  bad.as_object().erase("model");
  std::vector<json::value> items = {Payload(), bad};
  auto events = source.ConvertItems(items);
  ASSERT_FALSE(events);
  ASSERT_EQ(events.error().details().size(), 1u);
  EXPECT_EQ(events.error().details()[0].index, 1);
}

}  // namespace
}  // namespace tally::ingest
