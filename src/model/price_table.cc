#include "model/price_table.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace tally::model {
namespace {

namespace json = boost::json;

constexpr std::int64_t kTokensPerMtok = 1'000'000;

// LiteLLM writes prices as USD per token doubles (sometimes JSON integers, e.g.
// 0 for free models). Returns micro-USD per million tokens, or nullopt when the
// key is absent or not a usable price (negative, non-finite, a string).
std::optional<std::int64_t> PricePerMtok(const json::object& entry, std::string_view key) {
  const json::value* v = entry.if_contains(key);
  if (v == nullptr) return std::nullopt;
  double usd_per_token;
  if (const double* d = v->if_double()) {
    usd_per_token = *d;
  } else if (const std::int64_t* i = v->if_int64()) {
    usd_per_token = static_cast<double>(*i);
  } else if (const std::uint64_t* u = v->if_uint64()) {
    usd_per_token = static_cast<double>(*u);
  } else {
    return std::nullopt;
  }
  // 1e12 = 1e6 micro-USD per USD x 1e6 tokens per Mtok. The bound keeps llround
  // defined and rejects prices no real model has ($9M per token).
  if (!std::isfinite(usd_per_token) || usd_per_token < 0 || usd_per_token > 9e6) return std::nullopt;
  return std::llround(usd_per_token * 1e12);
}

// max_output_tokens is an integer in almost every entry, but a few carry a
// float or a placeholder string; those count as unknown.
std::optional<std::int64_t> TokenLimit(const json::object& entry, std::string_view key) {
  const json::value* v = entry.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (const std::int64_t* i = v->if_int64()) {
    if (*i > 0) return *i;
  } else if (const std::uint64_t* u = v->if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
  } else if (const double* d = v->if_double()) {
    if (std::isfinite(*d) && *d >= 1 && *d < 9e18 && std::floor(*d) == *d) return std::llround(*d);
  }
  return std::nullopt;
}

// floor(a / b) for b > 0; used so rounding is half-up for credits too.
__int128 FloorDiv(__int128 a, __int128 b) {
  __int128 q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

}  // namespace

core::Status PriceTable::LoadLiteLlmFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(core::Error::NotFound(fmt::format("price table '{}' cannot be opened", path)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return std::unexpected(core::Error::Unavailable(fmt::format("price table '{}' could not be read", path)));
  }
  auto status = LoadLiteLlmJson(text.str());
  if (!status) {
    return std::unexpected(core::Error(status.error().code(),
                                       fmt::format("price table '{}': {}", path, status.error().message())));
  }
  return core::OkStatus();
}

core::Status PriceTable::LoadLiteLlmJson(std::string_view json_text) {
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(json_text.data(), json_text.size()), ec);
  if (ec) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("invalid JSON: {}", ec.message())));
  }
  const json::object* models = root.if_object();
  if (models == nullptr) {
    return std::unexpected(core::Error::InvalidArgument(
        "a LiteLLM price file is a JSON object keyed by model name"));
  }
  // Parsed fully before merging so a bad file leaves the table unchanged.
  std::vector<std::pair<std::string, ModelPrice>> loaded;
  loaded.reserve(models->size());
  for (const auto& [key, value] : *models) {
    if (key == "sample_spec") continue;
    // Non-object values (the mirror's "last_updated" string) are not models.
    const json::object* entry = value.if_object();
    if (entry == nullptr) continue;
    std::optional<std::int64_t> input = PricePerMtok(*entry, "input_cost_per_token");
    std::optional<std::int64_t> output = PricePerMtok(*entry, "output_cost_per_token");
    if (!input && !output) continue;  // image, audio or per-request priced models
    ModelPrice price;
    price.input_per_mtok = input.value_or(0);
    price.output_per_mtok = output.value_or(0);
    price.cache_read_per_mtok = PricePerMtok(*entry, "cache_read_input_token_cost");
    price.max_output_tokens = TokenLimit(*entry, "max_output_tokens");
    if (!price.max_output_tokens) price.max_output_tokens = TokenLimit(*entry, "max_tokens");
    if (const json::value* p = entry->if_contains("litellm_provider")) {
      if (const json::string* s = p->if_string()) price.provider.assign(s->data(), s->size());
    }
    loaded.emplace_back(std::string(key), std::move(price));
  }
  for (auto& [name, price] : loaded) prices_.insert_or_assign(std::move(name), std::move(price));
  return core::OkStatus();
}

void PriceTable::Set(std::string model, ModelPrice price) {
  prices_.insert_or_assign(std::move(model), std::move(price));
}

const ModelPrice* PriceTable::Find(std::string_view model) const {
  if (auto it = prices_.find(model); it != prices_.end()) return &it->second;
  size_t slash = model.rfind('/');
  if (slash == std::string_view::npos) return nullptr;
  if (auto it = prices_.find(model.substr(slash + 1)); it != prices_.end()) return &it->second;
  return nullptr;
}

core::Result<core::Money> PriceTable::Cost(std::string_view model, std::int64_t input_tokens,
                                           std::int64_t output_tokens, std::int64_t cached_tokens) const {
  if (input_tokens < 0 || output_tokens < 0 || cached_tokens < 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("token counts must be non-negative (input {}, output {}, cached {})", input_tokens,
                    output_tokens, cached_tokens)));
  }
  if (cached_tokens > input_tokens) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "cached_tokens {} exceeds input_tokens {} (input includes cached)", cached_tokens, input_tokens)));
  }
  const ModelPrice* price = Find(model);
  if (price == nullptr) {
    return std::unexpected(core::Error::NotFound(fmt::format("model '{}' is not in the price table", model)));
  }
  const std::int64_t cache_price = price->cache_read_per_mtok.value_or(price->input_per_mtok);
  // Products of int64 tokens and int64 prices need 128 bits; the sum is in
  // micro-USD x 1e6 until the single rounding at the end.
  __int128 total = static_cast<__int128>(input_tokens - cached_tokens) * price->input_per_mtok +
                   static_cast<__int128>(cached_tokens) * cache_price +
                   static_cast<__int128>(output_tokens) * price->output_per_mtok;
  __int128 micros = FloorDiv(total + kTokensPerMtok / 2, kTokensPerMtok);
  if (micros > std::numeric_limits<std::int64_t>::max() || micros < std::numeric_limits<std::int64_t>::min()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("cost of {} input and {} output tokens of '{}' overflows", input_tokens, output_tokens, model)));
  }
  return core::Money::FromMicros(static_cast<std::int64_t>(micros));
}

}  // namespace tally::model
