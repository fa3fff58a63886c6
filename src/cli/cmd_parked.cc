// `tally parked list|replay` and `tally mappings list|add`: the webhook
// parking lot on the data folder directly (the server need not run). Adding a
// mapping replays that provider's parked deliveries in the same transaction,
// exactly as POST /v1/mappings does.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/ids.h"
#include "ingest/sources/source_registry.h"

namespace tally::cli {
namespace {

void PrintReplay(const store::ReplayStats& r) {
  std::cout << fmt::format("replayed {} parked ({} events stored, {} already there), {} still parked\n",
                           r.replayed, r.accepted, r.duplicates, r.still_parked);
}

}  // namespace

int RunParked(const ParkedArgs& args) {
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto sources = ingest::SourceRegistry::FromConfig(args.config.sources);
  if (args.action == "replay") {
    auto stats = (*store)->ReplayParked(sources->resolver(), core::SystemClock::Instance().Now());
    if (!stats) return Fail(stats.error());
    PrintReplay(*stats);
    return 0;
  }
  auto parked = (*store)->ListParked(args.all);
  if (!parked) return Fail(parked.error());
  std::cout << fmt::format("{:<6} {:<13} {:<32} {:<32} {:<22} {}\n", "ID", "PROVIDER", "EVENT",
                           "TYPE", "RECEIVED", "REASON");
  for (const auto& p : *parked) {
    std::string reason = p.replayed_at ? "replayed " + core::FormatRfc3339(*p.replayed_at) : p.reason;
    std::cout << fmt::format("{:<6} {:<13} {:<32} {:<32} {:<22} {}\n", p.id, p.provider,
                             p.provider_event_id, p.event_type, core::FormatRfc3339(p.received_at),
                             reason);
  }
  return 0;
}

int RunMappings(const MappingsArgs& args) {
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto sources = ingest::SourceRegistry::FromConfig(args.config.sources);
  if (args.action == "add") {
    auto providers = sources->MappedProviders();
    if (std::find(providers.begin(), providers.end(), args.provider) == providers.end()) {
      return Fail(core::Error::InvalidArgument(fmt::format(
          "--provider '{}' takes no product mappings (want one of: {})", args.provider,
          fmt::join(providers, ", "))));
    }
    if (!core::IsUuid(args.product_id)) {
      return Fail(core::Error::InvalidArgument(
          fmt::format("--product '{}' is not a UUID", args.product_id)));
    }
    if (!args.channel_id.empty() && !core::IsUuid(args.channel_id)) {
      return Fail(core::Error::InvalidArgument(
          fmt::format("--channel '{}' is not a UUID", args.channel_id)));
    }
    store::ProductMapping m{args.provider, args.external_id, core::LowerAscii(args.product_id),
                            std::nullopt, core::SystemClock::Instance().Now()};
    if (!args.channel_id.empty()) m.channel_id = core::LowerAscii(args.channel_id);
    auto stats = (*store)->PutMappingAndReplay(m, sources->resolver());
    if (!stats) return Fail(stats.error());
    std::cout << fmt::format("mapped {} '{}' -> product {}\n", m.provider, m.external_id,
                             m.product_id);
    PrintReplay(*stats);
    return 0;
  }
  std::cout << fmt::format("{:<13} {:<40} {:<38} {}\n", "PROVIDER", "EXTERNAL ID", "PRODUCT",
                           "CHANNEL");
  for (const auto& provider : sources->MappedProviders()) {
    auto mappings = (*store)->ListMappings(provider);
    if (!mappings) return Fail(mappings.error());
    for (const auto& m : *mappings) {
      std::cout << fmt::format("{:<13} {:<40} {:<38} {}\n", m.provider, m.external_id, m.product_id,
                               m.channel_id.value_or("-"));
    }
  }
  return 0;
}

}  // namespace tally::cli
