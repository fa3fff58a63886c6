// The built-in price table: common models, so a fresh install prices calls
// before any LiteLLM file is configured.
//
// Source: LiteLLM's model_prices_and_context_window.json as of 2026-07-24
// (fixture model_prices_and_context_window.full-2026-07.rocry-mirror.json),
// converted exactly from USD per token to micro-USD per million tokens. Where
// LiteLLM has only a dated or provider-prefixed key, the short alias below
// carries that entry's prices (named in the comment on its line). A loaded
// price file overrides these entries.
#include "model/price_table.h"

namespace tally::model {
namespace {

struct DefaultPrice {
  const char* model;
  const char* provider;
  std::int64_t input_per_mtok;
  std::int64_t output_per_mtok;
  std::int64_t cache_read_per_mtok;  // -1: no cache-read price
  std::int64_t max_output_tokens;
};

// micro-USD per 1M tokens: 3'000'000 is $3.00 / Mtok.
constexpr DefaultPrice kDefaults[] = {
    // Anthropic
    {"claude-opus-4-6", "anthropic", 5'000'000, 25'000'000, 500'000, 128'000},
    {"claude-opus-4-5", "anthropic", 5'000'000, 25'000'000, 500'000, 64'000},
    {"claude-opus-4-1", "anthropic", 15'000'000, 75'000'000, 1'500'000, 32'000},
    {"claude-opus-4-20250514", "anthropic", 15'000'000, 75'000'000, 1'500'000, 32'000},
    {"claude-opus-4", "anthropic", 15'000'000, 75'000'000, 1'500'000, 32'000},  // = claude-opus-4-20250514
    {"claude-sonnet-4-6", "anthropic", 3'000'000, 15'000'000, 300'000, 64'000},
    {"claude-sonnet-4-5", "anthropic", 3'000'000, 15'000'000, 300'000, 64'000},
    {"claude-sonnet-4-20250514", "anthropic", 3'000'000, 15'000'000, 300'000, 64'000},
    {"claude-sonnet-4", "anthropic", 3'000'000, 15'000'000, 300'000, 64'000},  // = claude-sonnet-4-20250514
    {"claude-haiku-4-5", "anthropic", 1'000'000, 5'000'000, 100'000, 64'000},
    // = anthropic.claude-3-5-haiku-20241022-v1:0 (Bedrock, at Anthropic's list price)
    {"claude-3-5-haiku", "anthropic", 800'000, 4'000'000, 80'000, 8'192},
    {"claude-3-5-haiku-20241022", "anthropic", 800'000, 4'000'000, 80'000, 8'192},
    // OpenAI
    {"gpt-4o", "openai", 2'500'000, 10'000'000, 1'250'000, 16'384},
    {"gpt-4o-mini", "openai", 150'000, 600'000, 75'000, 16'384},
    {"gpt-4.1", "openai", 2'000'000, 8'000'000, 500'000, 32'768},
    {"gpt-4.1-mini", "openai", 400'000, 1'600'000, 100'000, 32'768},
    {"gpt-4.1-nano", "openai", 100'000, 400'000, 25'000, 32'768},
    {"gpt-5", "openai", 1'250'000, 10'000'000, 125'000, 128'000},
    {"gpt-5-mini", "openai", 250'000, 2'000'000, 25'000, 128'000},
    {"o3", "openai", 2'000'000, 8'000'000, 500'000, 100'000},
    {"o3-mini", "openai", 1'100'000, 4'400'000, 550'000, 100'000},
    {"o4-mini", "openai", 1'100'000, 4'400'000, 275'000, 100'000},
    // Google (= the gemini/ entries; the bare keys carry the same prices)
    {"gemini-2.5-pro", "gemini", 1'250'000, 10'000'000, 125'000, 65'535},
    {"gemini-2.5-flash", "gemini", 300'000, 2'500'000, 30'000, 65'535},
    {"gemini-2.0-flash", "gemini", 100'000, 400'000, 25'000, 8'192},
    // Others
    {"deepseek-chat", "deepseek", 280'000, 420'000, 28'000, 8'192},
    {"llama-3.3-70b-versatile", "groq", 590'000, 790'000, -1, 32'768},  // = groq/llama-3.3-70b-versatile
    {"llama-3.3-70b", "groq", 590'000, 790'000, -1, 32'768},            // = groq/llama-3.3-70b-versatile
    {"mistral-large-latest", "mistral", 500'000, 1'500'000, -1, 262'144},  // = mistral/mistral-large-latest
};

}  // namespace

PriceTable PriceTable::Defaults() {
  PriceTable table;
  for (const DefaultPrice& d : kDefaults) {
    ModelPrice price;
    price.input_per_mtok = d.input_per_mtok;
    price.output_per_mtok = d.output_per_mtok;
    if (d.cache_read_per_mtok >= 0) price.cache_read_per_mtok = d.cache_read_per_mtok;
    price.max_output_tokens = d.max_output_tokens;
    price.provider = d.provider;
    table.Set(d.model, std::move(price));
  }
  return table;
}

}  // namespace tally::model
