// LiteLLMSource: LiteLLM's StandardLoggingPayload (as its generic API /
// webhook logger posts it: one object, a JSON array, or NDJSON) into
// llm_calls (seed §3.2).
//
// Field rules (docs/integrations.md):
//  - event_id "litellm:<id>": a re-sent payload is a duplicate.
//  - time = startTime; latency_ms = endTime - startTime. Times are epoch
//    seconds (numbers, as LiteLLM documents) or "YYYY-MM-DD HH:MM:SS.ffffff"
//    strings (as it actually sends them), read as UTC.
//  - model, provider = custom_llm_provider; input/output tokens =
//    prompt_tokens / completion_tokens (prompt includes cached, the OpenAI
//    convention); cached_tokens from response.usage
//    (prompt_tokens_details.cached_tokens or cache_read_input_tokens).
//  - cost_usd = response_cost rounded to the micro-dollar.
//  - status: success; failure -> error, or rate_limited / timeout when the
//    error class says so; error_type = error_information.error_class.
//  - agent_id: the metadata field named by `agent_id_field` (dotted paths
//    reach into nested objects, e.g. "requester_metadata.agent"), default
//    user_api_key_alias; else requester_metadata.agent_id; else
//    "unattributed" (spend is never dropped for want of a name).
//  - task_id / reservation_id: requester_metadata or metadata fields of those
//    names; a task_id that is not a UUID is kept in metadata as task_ref.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "ingest/sources/source.h"

namespace tally::ingest {

class LiteLlmSource final : public Source {
 public:
  explicit LiteLlmSource(std::string agent_id_field = "user_api_key_alias");

  std::string_view provider() const override { return "litellm"; }
  // The route's bearer key (scope ingest) authenticates LiteLLM: always OK.
  core::Status Verify(const SourceRequest& request, core::Timestamp now) const override;
  // `body` is JSON (object or array); mappings are unused.
  core::Result<Conversion> Convert(std::string_view body,
                                   std::span<const store::ProductMapping> mappings) const override;
  // Items already split (NDJSON too). All-or-nothing: invalid_argument with a
  // detail per problem (index, field, value) when any item is invalid.
  core::Result<std::vector<model::Event>> ConvertItems(
      std::span<const boost::json::value> items) const;

 private:
  std::string agent_id_field_;
};

}  // namespace tally::ingest
