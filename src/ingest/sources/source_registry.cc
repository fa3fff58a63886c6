#include "ingest/sources/source_registry.h"

#include "ingest/sources/github_source.h"
#include "ingest/sources/gumroad_source.h"
#include "ingest/sources/lemonsqueezy_source.h"
#include "ingest/sources/litellm_source.h"
#include "ingest/sources/stripe_source.h"

namespace tally::ingest {

SourceRegistry::SourceRegistry(std::vector<std::unique_ptr<Source>> sources)
    : sources_(std::move(sources)) {
  std::vector<const Source*> raw;
  for (const auto& s : sources_) raw.push_back(s.get());
  resolver_ = MakeParkedResolver(std::move(raw));
}

std::unique_ptr<SourceRegistry> SourceRegistry::FromConfig(const core::SourcesConfig& config) {
  CurrencyConverter converter(config.usd_per_unit);
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<StripeSource>(
      StripeSource::Options{config.stripe_webhook_secrets,
                            std::chrono::seconds(config.stripe_tolerance_seconds)},
      converter));
  sources.push_back(
      std::make_unique<LemonSqueezySource>(config.lemonsqueezy_signing_secret, converter));
  sources.push_back(std::make_unique<GumroadSource>(config.gumroad_url_token, converter));
  sources.push_back(std::make_unique<GitHubSource>(config.github_webhook_secrets));
  sources.push_back(std::make_unique<LiteLlmSource>(config.litellm_agent_id_field));
  return std::make_unique<SourceRegistry>(std::move(sources));
}

const Source* SourceRegistry::Find(std::string_view provider) const {
  for (const auto& s : sources_) {
    if (s->provider() == provider) return s.get();
  }
  return nullptr;
}

std::vector<std::string> SourceRegistry::MappedProviders() const {
  std::vector<std::string> out;
  for (const auto& s : sources_) {
    if (s->provider() != "litellm") out.emplace_back(s->provider());
  }
  return out;
}

}  // namespace tally::ingest
