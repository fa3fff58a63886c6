// SourceRegistry: the configured webhook and callback sources of one server
// (or CLI run), looked up by provider name, plus the ParkedResolver that
// converts parked deliveries with them. Immutable after construction;
// thread-safe to use concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/config_sources.h"
#include "ingest/sources/source.h"

namespace tally::ingest {

class SourceRegistry {
 public:
  explicit SourceRegistry(std::vector<std::unique_ptr<Source>> sources);

  // Every source tally has, configured from `config` (a source without its
  // secret still converts parked events; its Verify answers unavailable).
  static std::unique_ptr<SourceRegistry> FromConfig(const core::SourcesConfig& config);

  // nullptr for an unknown provider.
  const Source* Find(std::string_view provider) const;
  // Providers whose deliveries can be parked, i.e. that take product mappings.
  std::vector<std::string> MappedProviders() const;
  const store::ParkedResolver& resolver() const { return resolver_; }

 private:
  std::vector<std::unique_ptr<Source>> sources_;
  store::ParkedResolver resolver_;
};

}  // namespace tally::ingest
