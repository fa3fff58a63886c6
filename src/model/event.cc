#include "model/event.h"

#include <fmt/format.h>

#include <array>

namespace tally::model {
namespace {

constexpr std::array<std::string_view, kEventKindCount> kTables = {
    "llm_calls", "revenue_events", "task_events", "infra_costs", "growth_events", "ops_events"};
constexpr std::array<std::string_view, 4> kLlmStatuses = {"success", "error", "timeout", "rate_limited"};
constexpr std::array<std::string_view, 6> kRevenueTypes = {
    "payment", "subscription_start", "subscription_cancel", "refund", "ad_impression", "affiliate_conversion"};
constexpr std::array<std::string_view, 4> kTaskStatuses = {"started", "completed", "failed", "escalated"};

template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view TableName(EventKind kind) { return kTables[static_cast<int>(kind)]; }

core::Result<EventKind> ParseTableName(std::string_view table) {
  if (auto k = Lookup<EventKind>(kTables, table)) return *k;
  return std::unexpected(core::Error::NotFound(fmt::format(
      "unknown event table '{}' (expected llm_calls, revenue_events, task_events, infra_costs, "
      "growth_events or ops_events)",
      table)));
}

std::string_view ToString(LlmStatus s) { return kLlmStatuses[static_cast<int>(s)]; }
std::string_view ToString(RevenueEventType t) { return kRevenueTypes[static_cast<int>(t)]; }
std::string_view ToString(TaskStatus s) { return kTaskStatuses[static_cast<int>(s)]; }
std::optional<LlmStatus> ParseLlmStatus(std::string_view s) { return Lookup<LlmStatus>(kLlmStatuses, s); }
std::optional<RevenueEventType> ParseRevenueEventType(std::string_view s) {
  return Lookup<RevenueEventType>(kRevenueTypes, s);
}
std::optional<TaskStatus> ParseTaskStatus(std::string_view s) { return Lookup<TaskStatus>(kTaskStatuses, s); }

bool IsOpsFailure(std::string_view status) {
  return status == "failure" || status == "error" || status == "down";
}

EventKind KindOf(const Event& e) { return static_cast<EventKind>(e.index()); }

const std::string& EventIdOf(const Event& e) {
  return std::visit([](const auto& ev) -> const std::string& { return ev.event_id; }, e);
}

Timestamp TimeOf(const Event& e) {
  return std::visit([](const auto& ev) { return ev.time; }, e);
}

}  // namespace tally::model
