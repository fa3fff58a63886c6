// GumroadSource: Gumroad sale pings to revenue_events.
//
// Verify: Gumroad signs nothing, so the ping URL carries a secret token
// (POST /webhooks/gumroad/{token}); it must equal the configured token
// (constant-time compare).
// Convert: the ping is application/x-www-form-urlencoded (or, when the
// seller switched it, a JSON object of the same fields):
//  - resource_name "sale" (refunded false) -> payment, "gumroad:payment:<sale_id>"
//  - resource_name "refund" or refunded "true" -> refund (negative),
//    "gumroad:refund:<sale_id>"
//  - other resources (dispute, cancellation, ...) -> ignored.
// Amount: `price` in minor units of `currency`, converted by the rate table.
// Time: sale_timestamp (a refund ping carries no refund time, so the refund
// is dated at its sale). Products: product_id, then permalink, then "*".
#pragma once

#include <map>
#include <string>

#include "ingest/sources/currency.h"
#include "ingest/sources/form_urlencoded.h"
#include "ingest/sources/source.h"

namespace tally::ingest {

class GumroadSource final : public Source {
 public:
  GumroadSource(std::string url_token, CurrencyConverter converter);

  std::string_view provider() const override { return "gumroad"; }
  // Reads path_params["token"].
  core::Status Verify(const SourceRequest& request, core::Timestamp now) const override;
  core::Result<Conversion> Convert(std::string_view body,
                                   std::span<const store::ProductMapping> mappings) const override;

 private:
  std::string token_;
  CurrencyConverter converter_;
};

}  // namespace tally::ingest
