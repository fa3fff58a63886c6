// PriceTable against LiteLLM's real price files (read in place from the
// shared fixtures) and hand-computed costs.
#include "model/price_table.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace tally::model {
namespace {

const std::string kDir = std::string(TALLY_FIXTURES_DIR) + "/litellm/";
const std::string kFull = kDir + "model_prices_and_context_window.full-2026-07.rocry-mirror.json";
const std::string kOld = kDir + "model_prices_and_context_window.npm-llm-cost-1.0.5.json";
const std::string kSubset = kDir + "model_prices_and_context_window.subset-2026-07.wei-shaw-mirror.json";

ModelPrice Price(std::int64_t input_per_mtok, std::int64_t output_per_mtok) {
  ModelPrice p;
  p.input_per_mtok = input_per_mtok;
  p.output_per_mtok = output_per_mtok;
  return p;
}

class FullPriceFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(table_.LoadLiteLlmFile(kFull)) << kFull; }
  PriceTable table_;
};

TEST_F(FullPriceFileTest, LoadsEveryTokenPricedModelAndSkipsTheRest) {
  // 2,985 keys: sample_spec, last_updated and 462 entries with no token price.
  EXPECT_EQ(table_.size(), 2521u);
  EXPECT_EQ(table_.Find("sample_spec"), nullptr);
  EXPECT_EQ(table_.Find("last_updated"), nullptr);
  EXPECT_EQ(table_.Find("1024-x-1024/dall-e-2"), nullptr);
}

TEST_F(FullPriceFileTest, ConvertsPerTokenUsdToMicroUsdPerMillionTokens) {
  const ModelPrice* p = table_.Find("gpt-4o");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->input_per_mtok, 2'500'000);   // 2.5e-06 USD/token = $2.50/Mtok
  EXPECT_EQ(p->output_per_mtok, 10'000'000);  // 1e-05
  EXPECT_EQ(p->cache_read_per_mtok, 1'250'000);
  EXPECT_EQ(p->max_output_tokens, 16'384);
  EXPECT_EQ(p->provider, "openai");

  const ModelPrice* opus = table_.Find("claude-opus-4-6");
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->input_per_mtok, 5'000'000);
  EXPECT_EQ(opus->output_per_mtok, 25'000'000);
  EXPECT_EQ(opus->cache_read_per_mtok, 500'000);
  EXPECT_EQ(opus->max_output_tokens, 128'000);
  EXPECT_EQ(opus->provider, "anthropic");
}

TEST_F(FullPriceFileTest, ReadsOddlyTypedFields) {
  // Integer zero prices (free experimental models).
  const ModelPrice* free = table_.Find("gemini-flash-experimental");
  ASSERT_NE(free, nullptr);
  EXPECT_EQ(free->input_per_mtok, 0);
  EXPECT_EQ(free->output_per_mtok, 0);
  EXPECT_EQ(free->max_output_tokens, 8192);
  // max_output_tokens written as a float.
  const ModelPrice* grok = table_.Find("xai/grok-4-fast-reasoning");
  ASSERT_NE(grok, nullptr);
  EXPECT_EQ(grok->max_output_tokens, 2'000'000);
  EXPECT_EQ(grok->cache_read_per_mtok, 50'000);
  // No max_output_tokens: max_tokens is the fallback; no cache price stays absent.
  const ModelPrice* titan = table_.Find("amazon.titan-embed-text-v1");
  ASSERT_NE(titan, nullptr);
  EXPECT_EQ(titan->max_output_tokens, 8192);
  EXPECT_EQ(titan->input_per_mtok, 100'000);
  EXPECT_FALSE(titan->cache_read_per_mtok.has_value());
}

TEST_F(FullPriceFileTest, CostMatchesLiteLlmsOwnLoggedResponseCost) {
  // standard_logging_payload fixture: gpt-4o, 10 prompt + 20 completion tokens,
  // response_cost 0.000225 = 10 x 2.5e-6 + 20 x 1e-5.
  auto cost = table_.Cost("gpt-4o", 10, 20, 0);
  ASSERT_TRUE(cost);
  EXPECT_EQ(cost->micros(), 225);
}

TEST_F(FullPriceFileTest, CachedTokensArePricedAtTheCacheReadPrice) {
  // OpenAI's documented caching example: 2006 prompt tokens of which 1920
  // cached, 300 completion tokens, on gpt-4o:
  // 86 x $2.50 + 1920 x $1.25 + 300 x $10.00 per Mtok = 215 + 2400 + 3000 micro-USD.
  auto cost = table_.Cost("gpt-4o", 2006, 300, 1920);
  ASSERT_TRUE(cost);
  EXPECT_EQ(cost->micros(), 5615);
  auto uncached = table_.Cost("gpt-4o", 2006, 300, 0);
  ASSERT_TRUE(uncached);
  EXPECT_EQ(uncached->micros(), 5015 + 3000);
}

TEST_F(FullPriceFileTest, FindFallsBackToTheNameAfterTheLastSlash) {
  ASSERT_NE(table_.Find("openai/gpt-4o"), nullptr);
  EXPECT_EQ(table_.Find("openai/gpt-4o"), table_.Find("gpt-4o"));
  EXPECT_EQ(table_.Find("my-proxy/openai/gpt-4o"), table_.Find("gpt-4o"));
  // An exact provider-prefixed key wins over the stripped name.
  const ModelPrice* gemini = table_.Find("gemini/gemini-2.5-pro");
  ASSERT_NE(gemini, nullptr);
  EXPECT_EQ(gemini->provider, "gemini");
  EXPECT_EQ(table_.Find("gemini-2.5-pro")->provider, "vertex_ai-language-models");
  EXPECT_EQ(table_.Find("no-such-model"), nullptr);
  EXPECT_EQ(table_.Find("openai/"), nullptr);
}

TEST(PriceTableTest, CostRoundsHalfUpToTheMicroUsd) {
  PriceTable t;
  t.Set("m", Price(1'500'000, 0));
  // 1 token at $1.50/Mtok = 1.5 micro-USD -> 2; 3 tokens = 4.5 -> 5; 1 at $1.49 -> 1.
  EXPECT_EQ(t.Cost("m", 1, 0, 0)->micros(), 2);
  EXPECT_EQ(t.Cost("m", 3, 0, 0)->micros(), 5);
  t.Set("n", Price(1'490'000, 0));
  EXPECT_EQ(t.Cost("n", 1, 0, 0)->micros(), 1);
  // Sub-micro parts are summed before the one rounding: 3 x 0.5 = 1.5 -> 2.
  t.Set("half", Price(500'000, 500'000));
  EXPECT_EQ(t.Cost("half", 2, 1, 0)->micros(), 2);
}

TEST(PriceTableTest, CachedTokensWithoutCachePriceCostTheInputPrice) {
  PriceTable t;
  t.Set("m", Price(2'000'000, 8'000'000));
  EXPECT_EQ(t.Cost("m", 1000, 0, 400)->micros(), t.Cost("m", 1000, 0, 0)->micros());
}

TEST(PriceTableTest, LargeCountsDoNotOverflow) {
  PriceTable t;
  t.Set("m", Price(75'000'000, 75'000'000));
  // 2^31 tokens at $75/Mtok = $161,061.27... exactly 161061273600 micro-USD.
  auto cost = t.Cost("m", 2'147'483'648LL, 0, 0);
  ASSERT_TRUE(cost);
  EXPECT_EQ(cost->micros(), 161'061'273'600LL);
}

TEST(PriceTableTest, RejectsUnknownModelsAndImpossibleCounts) {
  PriceTable t = PriceTable::Defaults();
  auto unknown = t.Cost("acme-llm-9", 1, 1, 0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), core::ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message().find("acme-llm-9"), std::string::npos);

  auto negative = t.Cost("gpt-4o", -1, 0, 0);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(t.Cost("gpt-4o", 1, -5, 0));
  auto too_cached = t.Cost("gpt-4o", 10, 0, 11);
  ASSERT_FALSE(too_cached);
  EXPECT_EQ(too_cached.error().code(), core::ErrorCode::kInvalidArgument);
}

TEST(PriceTableTest, LaterFilesOverrideEarlierEntries) {
  PriceTable t;
  ASSERT_TRUE(t.LoadLiteLlmFile(kOld));
  EXPECT_EQ(t.size(), 401u);
  EXPECT_EQ(t.Find("gpt-4o")->input_per_mtok, 5'000'000);  // the 2024 launch price
  EXPECT_FALSE(t.Find("gpt-4o")->cache_read_per_mtok.has_value());
  ASSERT_TRUE(t.LoadLiteLlmFile(kSubset));
  EXPECT_EQ(t.Find("gpt-4o")->input_per_mtok, 2'500'000);
  EXPECT_EQ(t.Find("gpt-4o")->cache_read_per_mtok, 1'250'000);
  EXPECT_NE(t.Find("gpt-3.5-turbo"), nullptr);  // only in the old file: kept
}

TEST(PriceTableTest, BadFilesAreErrorsAndLeaveTheTableUnchanged) {
  PriceTable t = PriceTable::Defaults();
  const size_t before = t.size();
  auto missing = t.LoadLiteLlmFile(kDir + "no-such-file.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), core::ErrorCode::kNotFound);
  EXPECT_FALSE(t.LoadLiteLlmJson("{\"gpt-4o\": {\"input_cost_per_token\": "));
  EXPECT_FALSE(t.LoadLiteLlmJson("[1, 2]"));
  EXPECT_EQ(t.size(), before);
  EXPECT_EQ(t.Find("gpt-4o")->input_per_mtok, 2'500'000);
}

TEST(PriceTableTest, DefaultsCoverTheCommonModels) {
  PriceTable t = PriceTable::Defaults();
  for (const char* m : {"claude-opus-4", "claude-opus-4-6", "claude-sonnet-4", "claude-3-5-haiku", "claude-haiku-4-5",
                        "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "o4-mini", "gemini-2.5-pro",
                        "gemini-2.5-flash", "deepseek-chat", "llama-3.3-70b"}) {
    const ModelPrice* p = t.Find(m);
    ASSERT_NE(p, nullptr) << m;
    EXPECT_GT(p->input_per_mtok, 0) << m;
    EXPECT_GT(p->output_per_mtok, p->input_per_mtok / 10) << m;
    EXPECT_FALSE(p->provider.empty()) << m;
  }
}

TEST(PriceTableTest, DefaultsAgreeWithTheLiteLlmFileTheyWereTakenFrom) {
  PriceTable defaults = PriceTable::Defaults();
  std::ifstream in(kFull);
  std::stringstream text;
  text << in.rdbuf();
  boost::json::object file = boost::json::parse(text.str()).as_object();
  PriceTable full;
  ASSERT_TRUE(full.LoadLiteLlmJson(text.str()));
  int compared = 0;
  for (const auto& [name, unused] : file) {
    // A prefixed key would match a default through the stripped name.
    if (name.find('/') != boost::json::string_view::npos) continue;
    const ModelPrice* d = defaults.Find(name);
    if (d == nullptr) continue;
    const ModelPrice* f = full.Find(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(d->input_per_mtok, f->input_per_mtok) << name;
    EXPECT_EQ(d->output_per_mtok, f->output_per_mtok) << name;
    EXPECT_EQ(d->cache_read_per_mtok, f->cache_read_per_mtok) << name;
    EXPECT_EQ(d->max_output_tokens, f->max_output_tokens) << name;
    ++compared;
  }
  EXPECT_GE(compared, 20);
}

}  // namespace
}  // namespace tally::model
