#include "ingest/sources/litellm_source.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>

#include "core/ids.h"
#include "core/json.h"
#include "ingest/body_parser.h"
#include "ingest/sources/json_fields.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;
using json_fields::Field;
using json_fields::Get;
using json_fields::Int;
using json_fields::Str;

constexpr const char* kUnattributed = "unattributed";

// Epoch seconds (number) or "YYYY-MM-DD HH:MM:SS[.ffffff]" read as UTC.
core::Result<core::Timestamp> ReadTime(const json::value& item, std::string_view field) {
  const json::value* v = Get(item, field);
  if (v == nullptr) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("{} is required", field)));
  }
  if (v->is_number()) {
    double seconds = v->to_number<double>();
    return core::FromMicros(static_cast<std::int64_t>(std::llround(seconds * 1e6)));
  }
  if (v->is_string()) {
    std::string text(v->as_string());
    if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
    bool has_zone = text.ends_with("Z") || (text.size() > 19 && (text.find('+', 19) != std::string::npos ||
                                                                 text.find('-', 19) != std::string::npos));
    if (!has_zone) text += "Z";
    auto t = core::ParseRfc3339(text);
    if (t) return t;
  }
  return std::unexpected(core::Error::InvalidArgument(
      fmt::format("{} '{}' is neither epoch seconds nor 'YYYY-MM-DD HH:MM:SS'", field,
                  core::JsonExcerpt(*v))));
}

// A dotted path ("requester_metadata.agent") inside metadata.
std::string MetadataPath(const json::value& metadata, std::string_view path) {
  const json::value* at = &metadata;
  while (true) {
    size_t dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    if (dot == std::string_view::npos) return Str(*at, head);
    at = Get(*at, head);
    if (at == nullptr) return {};
    path.remove_prefix(dot + 1);
  }
}

model::LlmStatus StatusOf(const json::value& item, std::string* error_type) {
  const json::value& info = Field(item, "error_information");
  std::string error_class = Str(info, "error_class");
  if (error_class.empty()) error_class = Str(info, "error_code");
  if (Str(item, "status") == "success") return model::LlmStatus::kSuccess;
  *error_type = error_class.empty() ? "unknown" : error_class;
  std::string lower = core::LowerAscii(error_class);
  if (lower.find("ratelimit") != std::string::npos || Str(info, "error_code") == "429") {
    return model::LlmStatus::kRateLimited;
  }
  if (lower.find("timeout") != std::string::npos) return model::LlmStatus::kTimeout;
  return model::LlmStatus::kError;
}

core::Result<model::LlmCall> One(const json::value& item, const std::string& agent_field) {
  if (!item.is_object()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("item must be a StandardLoggingPayload object, got {}", core::JsonTypeName(item))));
  }
  model::LlmCall call;
  std::string id = Str(item, "id");
  if (id.empty() || id.size() > 119) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("id '{}' must be 1-119 characters", id)));
  }
  call.event_id = "litellm:" + id;
  call.time = TALLY_TRY(ReadTime(item, "startTime"));
  auto end = TALLY_TRY(ReadTime(item, "endTime"));
  call.latency_ms = std::max<std::int64_t>(0, (core::ToMicros(end) - core::ToMicros(call.time) + 500) / 1000);
  call.model = Str(item, "model");
  if (call.model.empty()) return std::unexpected(core::Error::InvalidArgument("model is required"));
  call.provider = Str(item, "custom_llm_provider");
  if (call.provider.empty()) {
    call.provider = Str(Field(Field(item, "model_map_information"), "model_map_value"), "litellm_provider");
  }
  if (call.provider.empty()) call.provider = "unknown";
  call.input_tokens = Int(item, "prompt_tokens").value_or(0);
  call.output_tokens = Int(item, "completion_tokens").value_or(0);
  if (call.input_tokens < 0 || call.output_tokens < 0) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "prompt_tokens {} / completion_tokens {} must be non-negative", call.input_tokens,
        call.output_tokens)));
  }
  const json::value& usage = Field(Field(item, "response"), "usage");
  std::int64_t cached = Int(Field(usage, "prompt_tokens_details"), "cached_tokens")
                            .value_or(Int(usage, "cache_read_input_tokens").value_or(0));
  call.cached_tokens = std::clamp<std::int64_t>(cached, 0, call.input_tokens);
  if (const json::value* cost = Get(item, "response_cost"); cost != nullptr && cost->is_number()) {
    double usd = cost->to_number<double>();
    if (!std::isfinite(usd) || usd < 0) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("response_cost {} must be a non-negative number", usd)));
    }
    // LiteLLM computes cost in floating point (0.000225 arrives as
    // 0.00022500000000000002): round to the micro-dollar we store.
    call.cost_usd = core::Money::FromMicros(std::llround(usd * 1e6));
  }
  std::string error_type;
  call.status = StatusOf(item, &error_type);
  if (!error_type.empty()) call.error_type = error_type;

  const json::value& metadata = Field(item, "metadata");
  const json::value& requester = Field(metadata, "requester_metadata");
  std::string agent = MetadataPath(metadata, agent_field);
  if (agent.empty()) agent = Str(requester, "agent_id");
  if (agent.empty()) agent = kUnattributed;
  if (!core::IsAgentId(agent)) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "agent id '{}' (from metadata.{}) is not a lowercase slug [a-z0-9][a-z0-9._-]*", agent,
        agent_field)));
  }
  call.agent_id = agent;
  json::object meta{{"source", "litellm"}};
  std::string task = Str(requester, "task_id");
  if (task.empty()) task = Str(metadata, "task_id");
  if (core::IsUuid(task)) {
    call.task_id = core::LowerAscii(task);
  } else if (!task.empty()) {
    meta["task_ref"] = task;
  }
  std::string reservation = Str(requester, "reservation_id");
  if (reservation.empty()) reservation = Str(metadata, "reservation_id");
  if (!reservation.empty()) call.reservation_id = reservation;
  for (const char* key : {"call_type", "model_group", "api_base", "trace_id"}) {
    if (auto v = Str(item, key); !v.empty()) meta[key] = v;
  }
  if (const json::value* hit = Get(item, "cache_hit"); hit != nullptr && hit->is_bool()) {
    meta["cache_hit"] = hit->as_bool();
  }
  for (const char* key : {"user_api_key_alias", "user_api_key_team_alias", "user_api_key_user_id"}) {
    if (auto v = Str(metadata, key); !v.empty()) meta[key] = v;
  }
  call.metadata = json::serialize(meta);
  return call;
}

}  // namespace

LiteLlmSource::LiteLlmSource(std::string agent_id_field) : agent_id_field_(std::move(agent_id_field)) {
  if (agent_id_field_.empty()) agent_id_field_ = "user_api_key_alias";
}

core::Status LiteLlmSource::Verify(const SourceRequest&, core::Timestamp) const {
  return core::OkStatus();
}

core::Result<std::vector<model::Event>> LiteLlmSource::ConvertItems(
    std::span<const json::value> items) const {
  std::vector<model::Event> events;
  std::vector<core::ErrorDetail> problems;
  for (size_t i = 0; i < items.size(); ++i) {
    auto call = One(items[i], agent_id_field_);
    if (!call) {
      problems.push_back({static_cast<std::int64_t>(i), "", "", call.error().message()});
      continue;
    }
    events.emplace_back(std::move(*call));
  }
  if (!problems.empty()) {
    return std::unexpected(core::Error(
        core::ErrorCode::kInvalidArgument,
        fmt::format("{} invalid LiteLLM payload(s) in batch of {}", problems.size(), items.size()),
        std::move(problems)));
  }
  return events;
}

core::Result<Conversion> LiteLlmSource::Convert(std::string_view body,
                                                std::span<const store::ProductMapping>) const {
  auto items = TALLY_TRY(ParseBody(body, BodyFormat::kJson));
  Conversion c;
  c.kind = Conversion::Kind::kEvents;
  c.event_type = "standard_logging_payload";
  c.events = TALLY_TRY(ConvertItems(items));
  return c;
}

}  // namespace tally::ingest
