#include "store/store.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace tally::store {
namespace {

// Order is the canonical text order: "ingest,read,admin".
constexpr std::array<std::pair<std::string_view, Scope>, 3> kScopeNames = {{
    {"ingest", kScopeIngest},
    {"read", kScopeRead},
    {"admin", kScopeAdmin},
}};

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ScopesToString(unsigned scopes) {
  std::string out;
  for (const auto& [name, bit] : kScopeNames) {
    if ((scopes & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

core::Result<unsigned> ParseScopes(std::string_view s) {
  unsigned scopes = 0;
  std::string_view rest = s;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = TrimSpaces(rest.substr(0, comma));
    bool known = false;
    for (const auto& [name, bit] : kScopeNames) {
      if (item == name) {
        scopes |= bit;
        known = true;
        break;
      }
    }
    if (!known) {
      return std::unexpected(
          core::Error::InvalidArgument(fmt::format("scopes '{}': unknown scope '{}' (expected a "
                                                   "comma-separated list of ingest, read, admin)",
                                                   s, item)));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return scopes;
}

core::Result<ParkedStep> ApplyParkedResolution(const ParkedEvent& parked,
                                               core::Result<ParkedResolution> resolution,
                                               std::string_view source_prefix,
                                               const ParkedAppend& append) {
  ParkedStep step;
  step.reason = parked.reason;
  if (!resolution) {
    step.reason = resolution.error().message();
  } else if (!resolution->resolved) {
    if (!resolution->reason.empty()) step.reason = resolution->reason;
  } else {
    model::Batch batch{std::string(source_prefix) + parked.provider, std::move(resolution->events)};
    const model::Batch* batches[] = {&batch};
    std::vector<AppendStats> stats;
    TALLY_RETURN_IF_ERROR(append(batches, &stats));
    step.stored = true;
    step.accepted = stats[0].accepted;
    step.duplicates = stats[0].duplicates;
  }
  return step;
}

Status CheckLiveBucket(std::chrono::seconds bucket) {
  if (bucket.count() <= 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("bucket must be positive, got {} s", bucket.count())));
  }
  return core::OkStatus();
}

core::Status CheckRollupRead(core::Timestamp from, core::Timestamp to, unsigned kinds) {
  if (to < from) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("rollups: 'to' {} is before 'from' {}", core::FormatRfc3339(to),
                    core::FormatRfc3339(from))));
  }
  if ((kinds & kAgentCostRollup) && (kinds & kAgentCostDailyRollup)) {
    return std::unexpected(
        core::Error::InvalidArgument("rollups: ask for hourly or daily agent costs, not both"));
  }
  return core::OkStatus();
}

}  // namespace tally::store
