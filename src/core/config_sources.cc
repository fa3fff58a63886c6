#include "core/config_sources.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "core/money.h"

namespace tally::core {
namespace {

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

bool IsCurrencyCode(std::string_view c) {
  if (c.size() != 3) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

// A rate is USD per one unit of the currency, exact to 6 decimals, positive.
Status AddRate(std::string_view where, std::string_view code, std::string_view rate,
               SourcesConfig* config) {
  std::string upper(code);
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!IsCurrencyCode(upper)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: currency '{}' is not a 3-letter ISO 4217 code", where, code)));
  }
  auto parsed = Money::Parse(rate);
  if (!parsed || parsed->micros() <= 0) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "{}: rate '{}' for {} must be a positive decimal (USD per unit, at most 6 decimals)",
        where, rate, upper)));
  }
  config->usd_per_unit[upper] = std::string(rate);
  return OkStatus();
}

Status One(const std::string& path, const std::string& name, const std::vector<std::string>& v,
           std::string* out) {
  if (v.size() != 1) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("config {}: {} must be a string", path, name)));
  }
  *out = v[0];
  return OkStatus();
}

// One value that must be a positive integer.
Status OnePositive(const std::string& path, const std::string& name,
                   const std::vector<std::string>& v, std::int64_t* out) {
  std::string text;
  TALLY_RETURN_IF_ERROR(One(path, name, v, &text));
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || n <= 0) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("config {}: {} = '{}' is not a positive integer", path, name, text)));
  }
  *out = n;
  return OkStatus();
}

}  // namespace

bool IsSourcesSection(const std::string& section) {
  return section == "stripe" || section == "lemonsqueezy" || section == "gumroad" ||
         section == "github" || section == "litellm" || section == "currency" || section == "bus";
}

Status LoadSourcesKey(const std::string& path, const std::string& name,
                      const std::vector<std::string>& values, SourcesConfig* config) {
  if (name == "stripe.webhook_secrets") {
    config->stripe_webhook_secrets.clear();
    for (const auto& v : values) {
      for (auto& s : SplitComma(v)) config->stripe_webhook_secrets.push_back(std::move(s));
    }
    return OkStatus();
  }
  if (name == "stripe.tolerance_seconds") {
    return OnePositive(path, name, values, &config->stripe_tolerance_seconds);
  }
  if (name == "lemonsqueezy.signing_secret") {
    return One(path, name, values, &config->lemonsqueezy_signing_secret);
  }
  if (name == "gumroad.url_token") return One(path, name, values, &config->gumroad_url_token);
  if (name == "github.webhook_secrets" || name == "github.webhook_secret") {
    config->github_webhook_secrets.clear();
    for (const auto& v : values) {
      for (auto& s : SplitComma(v)) config->github_webhook_secrets.push_back(std::move(s));
    }
    return OkStatus();
  }
  if (name == "litellm.agent_id_field") {
    return One(path, name, values, &config->litellm_agent_id_field);
  }
  if (name == "bus.redis_url") return One(path, name, values, &config->bus_redis_url);
  if (name == "bus.stream") return One(path, name, values, &config->bus_stream);
  if (name == "bus.group") return One(path, name, values, &config->bus_group);
  if (name == "bus.consumer") return One(path, name, values, &config->bus_consumer);
  if (name == "bus.dead_letter_stream") return One(path, name, values, &config->bus_dead_letter_stream);
  if (name == "bus.claim_idle_ms") return OnePositive(path, name, values, &config->bus_claim_idle_ms);
  if (name.starts_with("currency.")) {
    std::string rate;
    TALLY_RETURN_IF_ERROR(One(path, name, values, &rate));
    return AddRate(fmt::format("config {}", path), name.substr(9), rate, config);
  }
  return std::unexpected(
      Error::InvalidArgument(fmt::format("config {}: unknown key '{}'", path, name)));
}

Status ApplySourcesEnvironment(SourcesConfig* config) {
  if (const char* v = std::getenv("TALLY_STRIPE_WEBHOOK_SECRETS")) {
    config->stripe_webhook_secrets = SplitComma(v);
  }
  if (const char* v = std::getenv("TALLY_STRIPE_TOLERANCE_SECONDS")) {
    TALLY_RETURN_IF_ERROR(LoadSourcesKey("TALLY_STRIPE_TOLERANCE_SECONDS", "stripe.tolerance_seconds",
                                         {v}, config));
  }
  if (const char* v = std::getenv("TALLY_LEMONSQUEEZY_SIGNING_SECRET")) {
    config->lemonsqueezy_signing_secret = v;
  }
  if (const char* v = std::getenv("TALLY_GUMROAD_URL_TOKEN")) config->gumroad_url_token = v;
  if (const char* v = std::getenv("TALLY_GITHUB_WEBHOOK_SECRETS")) {
    config->github_webhook_secrets = SplitComma(v);
  } else if (const char* one = std::getenv("TALLY_GITHUB_WEBHOOK_SECRET")) {
    config->github_webhook_secrets = {one};
  }
  if (const char* v = std::getenv("TALLY_LITELLM_AGENT_ID_FIELD")) {
    config->litellm_agent_id_field = v;
  }
  for (const auto& [env, key] : {std::pair{"TALLY_BUS_REDIS_URL", "bus.redis_url"},
                                 std::pair{"TALLY_BUS_STREAM", "bus.stream"},
                                 std::pair{"TALLY_BUS_GROUP", "bus.group"},
                                 std::pair{"TALLY_BUS_CONSUMER", "bus.consumer"},
                                 std::pair{"TALLY_BUS_DEAD_LETTER_STREAM", "bus.dead_letter_stream"},
                                 std::pair{"TALLY_BUS_CLAIM_IDLE_MS", "bus.claim_idle_ms"}}) {
    if (const char* v = std::getenv(env)) {
      TALLY_RETURN_IF_ERROR(LoadSourcesKey(env, key, {v}, config));
    }
  }
  if (const char* v = std::getenv("TALLY_FX_RATES")) {
    for (const auto& pair : SplitComma(v)) {
      size_t eq = pair.find('=');
      if (eq == std::string::npos) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("TALLY_FX_RATES: '{}' is not CODE=rate", pair)));
      }
      TALLY_RETURN_IF_ERROR(
          AddRate("TALLY_FX_RATES", pair.substr(0, eq), pair.substr(eq + 1), config));
    }
  }
  return OkStatus();
}

}  // namespace tally::core
