// ToJson renderings for the API. Money and other NUMERIC columns are decimal
// strings (exact, and Boost.JSON would print doubles as "8.5E-1"); times are
// RFC 3339 UTC; an absent optional column is null; metadata is the object.
#include <boost/json/value.hpp>

#include "core/json.h"
#include "model/validate.h"

namespace tally::model {
namespace {

namespace json = boost::json;

json::value Text(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }
json::value Amount(core::Money m) { return json::value(m.ToString()); }
json::value Amount(const std::optional<core::Money>& m) { return m ? Amount(*m) : json::value(nullptr); }
json::value Time(core::Timestamp t) { return json::value(core::FormatRfc3339(t)); }
json::value Time(const std::optional<core::Timestamp>& t) { return t ? Time(*t) : json::value(nullptr); }
json::value Integer(const std::optional<std::int64_t>& n) { return n ? json::value(*n) : json::value(nullptr); }
json::value Centi(std::int64_t c) { return json::value(core::FormatFixedPoint(c, 2, 2)); }

// Stored text back to the object it was; empty (or, defensively, unparsable) is null.
json::value Object(const std::string& text) {
  if (text.empty()) return nullptr;
  core::Result<json::value> v = core::ParseJson(text);
  return v ? std::move(*v) : json::value(nullptr);
}

json::value Render(const LlmCall& e) {
  return json::object{{"event_id", e.event_id},
                      {"time", Time(e.time)},
                      {"agent_id", e.agent_id},
                      {"task_id", Text(e.task_id)},
                      {"model", e.model},
                      {"provider", e.provider},
                      {"input_tokens", e.input_tokens},
                      {"output_tokens", e.output_tokens},
                      {"cached_tokens", e.cached_tokens},
                      {"cost_usd", Amount(e.cost_usd)},
                      {"latency_ms", e.latency_ms},
                      {"status", ToString(e.status)},
                      {"error_type", Text(e.error_type)},
                      {"reservation_id", Text(e.reservation_id)},
                      {"metadata", Object(e.metadata)}};
}

json::value Render(const RevenueEvent& e) {
  return json::object{{"event_id", e.event_id},
                      {"time", Time(e.time)},
                      {"product_id", e.product_id},
                      {"channel_id", Text(e.channel_id)},
                      {"event_type", ToString(e.event_type)},
                      {"amount_usd", Amount(e.amount_usd)},
                      {"currency", e.currency},
                      {"customer_id", Text(e.customer_id)},
                      {"metadata", Object(e.metadata)}};
}

json::value Render(const TaskEvent& e) {
  return json::object{
      {"event_id", e.event_id},
      {"time", Time(e.time)},
      {"task_id", e.task_id},
      {"agent_id", e.agent_id},
      {"product_id", Text(e.product_id)},
      {"task_type", e.task_type},
      {"status", ToString(e.status)},
      {"duration_ms", Integer(e.duration_ms)},
      {"total_cost_usd", Amount(e.total_cost_usd)},
      {"steps_count", Integer(e.steps_count)},
      {"quality_score", e.quality_score_centi ? Centi(*e.quality_score_centi) : json::value(nullptr)},
      {"metadata", Object(e.metadata)}};
}

json::value Render(const InfraCost& e) {
  return json::object{{"event_id", e.event_id},
                      {"time", Time(e.time)},
                      {"product_id", Text(e.product_id)},
                      {"cost_type", e.cost_type},
                      {"provider", e.provider},
                      {"amount_usd", Amount(e.amount_usd)},
                      {"billing_period", Text(e.billing_period)},
                      {"metadata", Object(e.metadata)}};
}

json::value Render(const GrowthEvent& e) {
  return json::object{{"event_id", e.event_id},     {"time", Time(e.time)},
                      {"product_id", e.product_id}, {"channel", e.channel},
                      {"metric", e.metric},         {"value", Centi(e.value_centi)},
                      {"metadata", Object(e.metadata)}};
}

json::value Render(const OpsEvent& e) {
  return json::object{{"event_id", e.event_id},
                      {"time", Time(e.time)},
                      {"product_id", Text(e.product_id)},
                      {"kind", e.kind},
                      {"source", e.source},
                      {"status", e.status},
                      {"latency_ms", Integer(e.latency_ms)},
                      {"status_code", Integer(e.status_code)},
                      {"repository", Text(e.repository)},
                      {"metadata", Object(e.metadata)}};
}

}  // namespace

json::value ToJson(const Product& p) {
  return json::object{{"id", p.id},
                      {"name", p.name},
                      {"type", p.type},
                      {"status", p.status},
                      {"launched_at", Time(p.launched_at)},
                      {"revenue_model", Text(p.revenue_model)},
                      {"monthly_cost", Amount(p.monthly_cost)},
                      {"metadata", Object(p.metadata)},
                      {"created_at", Time(p.created_at)}};
}

json::value ToJson(const Agent& a) {
  return json::object{{"id", a.id},
                      {"role", a.role},
                      {"default_model", Text(a.default_model)},
                      {"daily_budget", Amount(a.daily_budget)},
                      {"status", a.status},
                      {"metadata", Object(a.metadata)},
                      {"created_at", Time(a.created_at)}};
}

json::value ToJson(const RevenueChannel& c) {
  return json::object{{"id", c.id},
                      {"product_id", Text(c.product_id)},
                      {"channel_type", c.channel_type},
                      {"channel_config", Object(c.channel_config)},
                      {"created_at", Time(c.created_at)}};
}

json::value ToJson(const Event& e) {
  return std::visit([](const auto& ev) { return Render(ev); }, e);
}

}  // namespace tally::model
