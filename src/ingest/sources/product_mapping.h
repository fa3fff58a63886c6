// Product mapping lookup shared by the revenue sources: the first candidate
// external id (most specific first: price, then product, then the payment's
// own metadata, then "*") that has a mapping decides the product and channel.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/parked.h"

namespace tally::ingest {

// The provider-wide default mapping's external id.
inline constexpr const char* kDefaultExternalId = "*";

// First mapping whose external_id equals a candidate, in candidate order;
// the default "*" mapping is tried last even if not listed. nullopt when none.
std::optional<store::ProductMapping> FindMapping(std::span<const store::ProductMapping> mappings,
                                                 const std::vector<std::string>& candidates);

// "no product mapping for stripe price 'price_1' or product 'prod_1'": the
// reason a parked event shows, naming every id an operator could map.
// candidates pairs are (kind, id).
std::string UnmappedReason(std::string_view provider,
                           const std::vector<std::pair<std::string, std::string>>& candidates);

}  // namespace tally::ingest
