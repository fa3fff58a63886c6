#include "ingest/sources/product_mapping.h"

#include <fmt/format.h>

#include "ingest/sources/source.h"

namespace tally::ingest {

std::optional<store::ProductMapping> FindMapping(std::span<const store::ProductMapping> mappings,
                                                 const std::vector<std::string>& candidates) {
  auto find = [&](const std::string& id) -> const store::ProductMapping* {
    for (const auto& m : mappings) {
      if (m.external_id == id) return &m;
    }
    return nullptr;
  };
  for (const auto& c : candidates) {
    if (c.empty()) continue;
    if (const auto* m = find(c)) return *m;
  }
  if (const auto* m = find(kDefaultExternalId)) return *m;
  return std::nullopt;
}

std::string UnmappedReason(std::string_view provider,
                           const std::vector<std::pair<std::string, std::string>>& candidates) {
  std::string ids;
  for (const auto& [kind, id] : candidates) {
    if (id.empty()) continue;
    if (!ids.empty()) ids += " or ";
    ids += fmt::format("{} '{}'", kind, id);
  }
  if (ids.empty()) {
    return fmt::format(
        "no product mapping for this {} event: it names no product; add the default mapping "
        "(external_id \"*\") for {}",
        provider, provider);
  }
  return fmt::format("no product mapping for {} {} (nor a default \"*\" mapping)", provider, ids);
}

store::ParkedResolver MakeParkedResolver(std::vector<const Source*> sources) {
  return [sources = std::move(sources)](const store::ParkedEvent& parked,
                                        std::span<const store::ProductMapping> mappings)
             -> core::Result<store::ParkedResolution> {
    for (const Source* s : sources) {
      if (s->provider() != parked.provider) continue;
      auto conv = s->Convert(parked.payload, mappings);
      if (!conv) return std::unexpected(std::move(conv).error());
      store::ParkedResolution r;
      switch (conv->kind) {
        case Conversion::Kind::kEvents:
          r.resolved = true;
          r.events = std::move(conv->events);
          break;
        case Conversion::Kind::kIgnored:
          r.resolved = true;
          break;
        case Conversion::Kind::kUnmapped:
          r.resolved = false;
          r.reason = std::move(conv->reason);
          break;
      }
      return r;
    }
    return std::unexpected(core::Error::NotFound(
        fmt::format("no source for provider '{}' in this server", parked.provider)));
  };
}

}  // namespace tally::ingest
