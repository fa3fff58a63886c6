// ParseEvents: one pass over each item's members (FieldReader), typed reads,
// every problem of every item collected; events are returned only when the
// whole batch is valid.
#include <fmt/format.h>

#include <boost/json/serializer.hpp>

#include "core/ids.h"
#include "core/json.h"
#include "model/field_reader.h"
#include "model/validate.h"

namespace tally::model {
namespace {

namespace json = boost::json;
using internal::FieldReader;
using internal::kMaxText;
using internal::MoneyRule;

// Money columns per the seed's NUMERIC(precision, scale).
constexpr MoneyRule kLlmCost{6, 10'000, false};           // NUMERIC(10,6)
constexpr MoneyRule kRevenueAmount{2, 100'000'000, true};  // NUMERIC(10,2); refunds negative
constexpr MoneyRule kTaskCost{4, 1'000'000, false};        // NUMERIC(10,4)
constexpr MoneyRule kInfraAmount{4, 1'000'000, true};      // NUMERIC(10,4); credits negative
constexpr std::int64_t kMaxGrowthCenti = 9'999'999'999;    // NUMERIC(10,2)

namespace llm {
enum : int {
  kEventId, kTime, kAgentId, kTaskId, kModel, kProvider, kInputTokens, kOutputTokens, kCachedTokens,
  kCostUsd, kLatencyMs, kStatus, kErrorType, kReservationId, kMetadata
};
constexpr std::string_view kNames[] = {
    "event_id", "time", "agent_id", "task_id", "model", "provider", "input_tokens", "output_tokens",
    "cached_tokens", "cost_usd", "latency_ms", "status", "error_type", "reservation_id", "metadata"};
}  // namespace llm

namespace revenue {
enum : int { kEventId, kTime, kProductId, kChannelId, kEventType, kAmountUsd, kCurrency, kCustomerId, kMetadata };
constexpr std::string_view kNames[] = {"event_id",   "time",     "product_id",  "channel_id", "event_type",
                                       "amount_usd", "currency", "customer_id", "metadata"};
}  // namespace revenue

namespace task {
enum : int {
  kEventId, kTime, kTaskId, kAgentId, kProductId, kTaskType, kStatus, kDurationMs, kTotalCostUsd,
  kStepsCount, kQualityScore, kMetadata
};
constexpr std::string_view kNames[] = {"event_id",    "time",           "task_id",     "agent_id",
                                       "product_id",  "task_type",      "status",      "duration_ms",
                                       "total_cost_usd", "steps_count", "quality_score", "metadata"};
}  // namespace task

namespace infra {
enum : int { kEventId, kTime, kProductId, kCostType, kProvider, kAmountUsd, kBillingPeriod, kMetadata };
constexpr std::string_view kNames[] = {"event_id", "time",       "product_id",     "cost_type",
                                       "provider", "amount_usd", "billing_period", "metadata"};
}  // namespace infra

namespace growth {
enum : int { kEventId, kTime, kProductId, kChannel, kMetric, kValue, kMetadata };
constexpr std::string_view kNames[] = {"event_id", "time", "product_id", "channel", "metric", "value", "metadata"};
}  // namespace growth

namespace ops {
enum : int {
  kEventId, kTime, kProductId, kKind, kSource, kStatus, kLatencyMs, kStatusCode, kRepository, kMetadata
};
constexpr std::string_view kNames[] = {"event_id", "time",       "product_id",  "kind",       "source",
                                       "status",   "latency_ms", "status_code", "repository", "metadata"};
}  // namespace ops

// "h:" + 32 hex of SHA-256("<table>\n<item JSON>"): an identical retry hashes
// the same, and the table name keeps equal bodies in two tables apart.
std::string ContentEventId(std::string_view table, const json::value& item) {
  std::string text;
  text.reserve(512);
  text.append(table);
  text.push_back('\n');
  json::serializer sr;
  sr.reset(&item);
  char buf[4096];
  while (!sr.done()) {
    json::string_view chunk = sr.read(buf);
    text.append(chunk.data(), chunk.size());
  }
  std::string hex = core::Sha256Hex(text);
  hex.resize(32);
  hex.insert(0, "h:");
  return hex;
}

// The columns every table shares: event_id, time, metadata.
void ReadCommon(FieldReader& r, int event_id, int time, int metadata, std::string_view table,
                const json::value& item, std::string* out_event_id, core::Timestamp* out_time,
                std::string* out_metadata) {
  if (const json::value* v = r.Optional(event_id)) {
    r.EventId(event_id, *v, out_event_id);
  } else {
    *out_event_id = ContentEventId(table, item);
  }
  if (const json::value* v = r.Required(time)) r.Time(time, *v, out_time);
  if (const json::value* v = r.Optional(metadata)) r.Object(metadata, *v, out_metadata);
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable& prices, LlmCall* e) {
  using namespace llm;
  ReadCommon(r, kEventId, kTime, kMetadata, "llm_calls", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Required(kAgentId)) r.Slug(kAgentId, *v, &e->agent_id);
  if (const json::value* v = r.Optional(kTaskId)) r.Uuid(kTaskId, *v, &e->task_id.emplace());
  bool model_ok = false;
  if (const json::value* v = r.Required(kModel)) model_ok = r.String(kModel, *v, kMaxText, &e->model);
  if (const json::value* v = r.Required(kProvider)) r.String(kProvider, *v, kMaxText, &e->provider);
  bool tokens_ok = true;
  if (const json::value* v = r.Required(kInputTokens)) {
    tokens_ok &= r.Count(kInputTokens, *v, &e->input_tokens);
  } else {
    tokens_ok = false;
  }
  if (const json::value* v = r.Required(kOutputTokens)) {
    tokens_ok &= r.Count(kOutputTokens, *v, &e->output_tokens);
  } else {
    tokens_ok = false;
  }
  if (const json::value* v = r.Optional(kCachedTokens)) {
    tokens_ok &= r.Count(kCachedTokens, *v, &e->cached_tokens);
  }
  if (tokens_ok && e->cached_tokens > e->input_tokens) {
    tokens_ok = false;
    r.Problem(kCachedTokens, r.Optional(kCachedTokens),
              fmt::format("must not exceed input_tokens ({}): input_tokens includes cached tokens",
                          e->input_tokens));
  }
  if (const json::value* v = r.Optional(kCostUsd)) {
    r.Amount(kCostUsd, *v, kLlmCost, &e->cost_usd);
  } else if (tokens_ok && model_ok) {
    core::Result<core::Money> cost = prices.Cost(e->model, e->input_tokens, e->output_tokens, e->cached_tokens);
    if (cost) {
      e->cost_usd = *cost;
    } else if (cost.error().code() == core::ErrorCode::kNotFound) {
      r.Problem(kCostUsd, nullptr,
                fmt::format("model '{}' is not in the price table and no cost_usd was given", e->model));
    } else {
      r.Problem(kCostUsd, nullptr, cost.error().message());
    }
  }
  if (const json::value* v = r.Required(kLatencyMs)) r.Count(kLatencyMs, *v, &e->latency_ms);
  if (const json::value* v = r.Required(kStatus)) {
    r.Enum(kStatus, *v, &ParseLlmStatus, "success, error, timeout, rate_limited", &e->status);
  }
  if (const json::value* v = r.Optional(kErrorType)) r.String(kErrorType, *v, kMaxText, &e->error_type.emplace());
  if (const json::value* v = r.Optional(kReservationId)) {
    r.String(kReservationId, *v, 128, &e->reservation_id.emplace());
  }
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable&, RevenueEvent* e) {
  using namespace revenue;
  ReadCommon(r, kEventId, kTime, kMetadata, "revenue_events", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Required(kProductId)) r.Uuid(kProductId, *v, &e->product_id);
  if (const json::value* v = r.Optional(kChannelId)) r.Uuid(kChannelId, *v, &e->channel_id.emplace());
  bool type_ok = false;
  if (const json::value* v = r.Required(kEventType)) {
    type_ok = r.Enum(kEventType, *v, &ParseRevenueEventType,
                     "payment, subscription_start, subscription_cancel, refund, ad_impression, "
                     "affiliate_conversion",
                     &e->event_type);
  }
  if (const json::value* v = r.Optional(kAmountUsd)) {
    // Net revenue sums amounts, so a refund must carry its sign.
    if (r.Amount(kAmountUsd, *v, kRevenueAmount, &e->amount_usd.emplace()) && type_ok &&
        e->event_type == RevenueEventType::kRefund && e->amount_usd->micros() > 0) {
      r.Problem(kAmountUsd, v, "a refund's amount must be negative (a $5 refund is -5.00)");
    }
  }
  if (const json::value* v = r.Optional(kCurrency)) {
    const json::string* s = v->if_string();
    bool ok = s != nullptr && s->size() == 3;
    for (size_t k = 0; ok && k < 3; ++k) ok = (*s)[k] >= 'A' && (*s)[k] <= 'Z';
    if (ok) {
      e->currency.assign(s->data(), s->size());
    } else {
      r.Problem(kCurrency, v, "must be an ISO 4217 code of 3 uppercase letters, like \"USD\"");
    }
  }
  if (const json::value* v = r.Optional(kCustomerId)) r.String(kCustomerId, *v, kMaxText, &e->customer_id.emplace());
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable&, TaskEvent* e) {
  using namespace task;
  ReadCommon(r, kEventId, kTime, kMetadata, "task_events", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Required(kTaskId)) r.Uuid(kTaskId, *v, &e->task_id);
  if (const json::value* v = r.Required(kAgentId)) r.Slug(kAgentId, *v, &e->agent_id);
  if (const json::value* v = r.Optional(kProductId)) r.Uuid(kProductId, *v, &e->product_id.emplace());
  if (const json::value* v = r.Required(kTaskType)) r.Slug(kTaskType, *v, &e->task_type);
  if (const json::value* v = r.Required(kStatus)) {
    r.Enum(kStatus, *v, &ParseTaskStatus, "started, completed, failed, escalated", &e->status);
  }
  if (const json::value* v = r.Optional(kDurationMs)) r.Count(kDurationMs, *v, &e->duration_ms.emplace());
  if (const json::value* v = r.Optional(kTotalCostUsd)) {
    r.Amount(kTotalCostUsd, *v, kTaskCost, &e->total_cost_usd.emplace());
  }
  if (const json::value* v = r.Optional(kStepsCount)) r.Count(kStepsCount, *v, &e->steps_count.emplace());
  if (const json::value* v = r.Optional(kQualityScore)) {
    r.Centi(kQualityScore, *v, 0, 100, &e->quality_score_centi.emplace());
  }
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable&, InfraCost* e) {
  using namespace infra;
  ReadCommon(r, kEventId, kTime, kMetadata, "infra_costs", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Optional(kProductId)) r.Uuid(kProductId, *v, &e->product_id.emplace());
  if (const json::value* v = r.Required(kCostType)) r.Slug(kCostType, *v, &e->cost_type);
  if (const json::value* v = r.Required(kProvider)) r.String(kProvider, *v, kMaxText, &e->provider);
  if (const json::value* v = r.Required(kAmountUsd)) r.Amount(kAmountUsd, *v, kInfraAmount, &e->amount_usd);
  if (const json::value* v = r.Optional(kBillingPeriod)) {
    r.String(kBillingPeriod, *v, 64, &e->billing_period.emplace());
  }
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable&, GrowthEvent* e) {
  using namespace growth;
  ReadCommon(r, kEventId, kTime, kMetadata, "growth_events", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Required(kProductId)) r.Uuid(kProductId, *v, &e->product_id);
  if (const json::value* v = r.Required(kChannel)) r.Slug(kChannel, *v, &e->channel);
  if (const json::value* v = r.Required(kMetric)) r.Slug(kMetric, *v, &e->metric);
  if (const json::value* v = r.Optional(kValue)) r.Centi(kValue, *v, -kMaxGrowthCenti, kMaxGrowthCenti, &e->value_centi);
}

void ReadItem(FieldReader& r, const json::value& item, const PriceTable&, OpsEvent* e) {
  using namespace ops;
  ReadCommon(r, kEventId, kTime, kMetadata, "ops_events", item, &e->event_id, &e->time, &e->metadata);
  if (const json::value* v = r.Optional(kProductId)) r.Uuid(kProductId, *v, &e->product_id.emplace());
  if (const json::value* v = r.Required(kKind)) r.Slug(kKind, *v, &e->kind);
  if (const json::value* v = r.Required(kSource)) r.Slug(kSource, *v, &e->source);
  if (const json::value* v = r.Required(kStatus)) r.Slug(kStatus, *v, &e->status);
  if (const json::value* v = r.Optional(kLatencyMs)) r.Count(kLatencyMs, *v, &e->latency_ms.emplace());
  if (const json::value* v = r.Optional(kStatusCode)) {
    if (r.Count(kStatusCode, *v, &e->status_code.emplace()) && *e->status_code > 999) {
      r.Problem(kStatusCode, v, "must be a status code between 0 and 999");
    }
  }
  if (const json::value* v = r.Optional(kRepository)) {
    r.String(kRepository, *v, kMaxText, &e->repository.emplace());
  }
}

template <typename E>
std::span<const std::string_view> NamesOf() {
  if constexpr (std::is_same_v<E, LlmCall>) return llm::kNames;
  if constexpr (std::is_same_v<E, RevenueEvent>) return revenue::kNames;
  if constexpr (std::is_same_v<E, TaskEvent>) return task::kNames;
  if constexpr (std::is_same_v<E, InfraCost>) return infra::kNames;
  if constexpr (std::is_same_v<E, GrowthEvent>) return growth::kNames;
  if constexpr (std::is_same_v<E, OpsEvent>) return ops::kNames;
}

template <typename E>
core::Result<std::vector<Event>> ParseAll(EventKind kind, std::span<const json::value> items,
                                          const PriceTable& prices) {
  static_assert(std::size(llm::kNames) <= FieldReader::kMaxFields);
  const std::string_view table = TableName(kind);
  std::vector<Event> events;
  events.reserve(items.size());
  std::vector<core::ErrorDetail> details;
  size_t invalid = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto index = static_cast<std::int64_t>(i);
    const json::object* obj = items[i].if_object();
    if (obj == nullptr) {
      details.push_back(core::ErrorDetail{index, "", core::JsonExcerpt(items[i]),
                                          fmt::format("an event must be a JSON object, got {}",
                                                      core::JsonTypeName(items[i]))});
      ++invalid;
      continue;
    }
    FieldReader reader(NamesOf<E>(), table, &details, index);
    reader.Gather(*obj);
    E event;
    ReadItem(reader, items[i], prices, &event);
    if (reader.problems() != 0) {
      ++invalid;
    } else if (invalid == 0) {
      events.emplace_back(std::in_place_type<E>, std::move(event));
    }
  }
  if (invalid != 0) {
    return std::unexpected(core::Error(
        core::ErrorCode::kInvalidArgument,
        fmt::format("{} invalid event{} in batch of {} for {}", invalid, invalid == 1 ? "" : "s", items.size(), table),
        std::move(details)));
  }
  return events;
}

}  // namespace

core::Result<std::vector<Event>> ParseEvents(EventKind kind, std::span<const json::value> items,
                                             const PriceTable& prices) {
  switch (kind) {
    case EventKind::kLlmCall: return ParseAll<LlmCall>(kind, items, prices);
    case EventKind::kRevenue: return ParseAll<RevenueEvent>(kind, items, prices);
    case EventKind::kTask: return ParseAll<TaskEvent>(kind, items, prices);
    case EventKind::kInfraCost: return ParseAll<InfraCost>(kind, items, prices);
    case EventKind::kGrowth: return ParseAll<GrowthEvent>(kind, items, prices);
    case EventKind::kOps: return ParseAll<OpsEvent>(kind, items, prices);
  }
  return std::unexpected(core::Error::InvalidArgument(fmt::format("unknown event kind {}", static_cast<int>(kind))));
}

}  // namespace tally::model
