// PriceTable: USD prices per model, to price an LLM call that arrives
// without cost_usd (and, later, to reserve worst-case budget).
//
// Prices are held exactly as micro-USD per million tokens (LiteLLM's per-token
// USD floats are converted once at load, rounded to the nearest unit).
// Format loaded: LiteLLM's model_prices_and_context_window.json (keys
// input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
// max_output_tokens, litellm_provider; the "sample_spec" entry is skipped).
// A small built-in table covers common models so a fresh install prices them.
// Thread-safety: immutable after loading; concurrent Find/Cost are safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/money.h"
#include "core/result.h"

namespace tally::model {

struct ModelPrice {
  std::int64_t input_per_mtok = 0;   // micro-USD per 1M input tokens
  std::int64_t output_per_mtok = 0;  // micro-USD per 1M output tokens
  std::optional<std::int64_t> cache_read_per_mtok;  // absent: cached input at input price
  std::optional<std::int64_t> max_output_tokens;
  std::string provider;
};

class PriceTable {
 public:
  // The built-in table (docs/pricing.md lists it and its date).
  static PriceTable Defaults();

  // Merges a LiteLLM price file over the current entries. Entries without
  // both token prices (image, audio, embedding-only models) are skipped.
  core::Status LoadLiteLlmFile(const std::string& path);
  core::Status LoadLiteLlmJson(std::string_view json_text);

  void Set(std::string model, ModelPrice price);
  // Exact name first, then without a "provider/" prefix.
  const ModelPrice* Find(std::string_view model) const;
  size_t size() const { return prices_.size(); }

  // Cost of one call: (input - cached) at the input price, cached at the
  // cache-read price, output at the output price; rounded half-up to the
  // micro-USD. not_found (naming the model) when the model is unknown;
  // invalid_argument when a count is negative or cached_tokens > input_tokens.
  core::Result<core::Money> Cost(std::string_view model, std::int64_t input_tokens,
                                 std::int64_t output_tokens, std::int64_t cached_tokens) const;

 private:
  // Transparent hashing lets Find() look up a string_view without building a
  // std::string on every priced event.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, ModelPrice, NameHash, std::equal_to<>> prices_;
};

}  // namespace tally::model
