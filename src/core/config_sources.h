// Settings of the webhook and callback sources (src/ingest/sources): the
// secrets that authenticate each provider, the LiteLLM agent-id rule and the
// exchange-rate table. Part of core::Config; loaded from the [stripe],
// [lemonsqueezy], [gumroad], [github], [litellm], [currency] and [bus] sections of
// the TOML file and from TALLY_* variables (see docs/integrations.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace tally::core {

struct SourcesConfig {
  // [stripe] webhook_secrets (array or comma-separated string) /
  // TALLY_STRIPE_WEBHOOK_SECRETS (comma-separated): every endpoint signing
  // secret (whsec_...) currently valid. A signature made with any of them is
  // accepted, so a secret can be rolled without losing deliveries. Empty:
  // POST /webhooks/stripe answers 503 (not configured).
  std::vector<std::string> stripe_webhook_secrets;
  // [stripe] tolerance_seconds / TALLY_STRIPE_TOLERANCE_SECONDS: oldest
  // signed timestamp accepted, against tally's clock. Stripe's default, 300;
  // larger widens the replay window of a captured request.
  std::int64_t stripe_tolerance_seconds = 300;
  // [lemonsqueezy] signing_secret / TALLY_LEMONSQUEEZY_SIGNING_SECRET.
  std::string lemonsqueezy_signing_secret;
  // [gumroad] url_token / TALLY_GUMROAD_URL_TOKEN: the secret path segment of
  // the ping URL (/webhooks/gumroad/{token}); Gumroad signs nothing.
  std::string gumroad_url_token;
  // [github] webhook_secrets (array or comma-separated; webhook_secret, one)
  // / TALLY_GITHUB_WEBHOOK_SECRETS (comma-separated) or
  // TALLY_GITHUB_WEBHOOK_SECRET: every webhook secret currently valid, so a
  // secret can be rolled. Empty: POST /webhooks/github answers 503.
  std::vector<std::string> github_webhook_secrets;
  // [litellm] agent_id_field / TALLY_LITELLM_AGENT_ID_FIELD: the metadata
  // field of LiteLLM's StandardLoggingPayload naming the agent. Default the
  // virtual key's alias (one key per agent); when that is empty, the
  // requester metadata's agent_id.
  std::string litellm_agent_id_field = "user_api_key_alias";
  // [currency] <CODE> = "<USD per unit>", e.g. EUR = "1.08" /
  // TALLY_FX_RATES="EUR=1.08,GBP=1.27": rates for non-USD revenue. A
  // payment in a currency without a rate is parked, not guessed.
  std::map<std::string, std::string> usd_per_unit;

  // [bus] The agent event bus, a Redis Stream read through a consumer group
  // (src/ingest/bus, docs/integrations/redis-streams.md). redis_url /
  // TALLY_BUS_REDIS_URL: empty disables the consumer. stream / group /
  // consumer (TALLY_BUS_STREAM, _GROUP, _CONSUMER; consumer empty = the host
  // name), dead_letter_stream (empty = "<stream>:dead"), claim_idle_ms
  // (TALLY_BUS_CLAIM_IDLE_MS): entries pending this long on another consumer
  // are taken over.
  std::string bus_redis_url;
  std::string bus_stream = "tally:events";
  std::string bus_group = "tally";
  std::string bus_consumer;
  std::string bus_dead_letter_stream;
  std::int64_t bus_claim_idle_ms = 60'000;
};

// One key of a sources section from the TOML file. `name` is "section.key";
// `values` holds the TOML string (or number, as text), or each element of an
// array of strings.
Status LoadSourcesKey(const std::string& path, const std::string& name,
                      const std::vector<std::string>& values, SourcesConfig* config);
// True for the sections LoadSourcesKey handles.
bool IsSourcesSection(const std::string& section);
// TALLY_STRIPE_WEBHOOK_SECRETS, TALLY_STRIPE_TOLERANCE_SECONDS,
// TALLY_LEMONSQUEEZY_SIGNING_SECRET, TALLY_GUMROAD_URL_TOKEN,
// TALLY_GITHUB_WEBHOOK_SECRETS, TALLY_GITHUB_WEBHOOK_SECRET, TALLY_LITELLM_AGENT_ID_FIELD, TALLY_FX_RATES.
Status ApplySourcesEnvironment(SourcesConfig* config);

}  // namespace tally::core
