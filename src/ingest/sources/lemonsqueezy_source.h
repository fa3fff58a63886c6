// LemonSqueezySource: Lemon Squeezy webhooks to revenue_events.
//
// Verify: X-Signature is the lowercase hex HMAC-SHA256 of the raw body keyed
// with the webhook's signing secret (no prefix, no timestamp); compared in
// constant time.
// Convert (docs/integrations.md has the table):
//  - order_created (status paid)       -> payment,  "lemonsqueezy:payment:order:<order id>"
//  - subscription_payment_success      -> payment,  "lemonsqueezy:payment:invoice:<invoice id>"
//  - subscription_created              -> subscription_start, "lemonsqueezy:subscription_start:<sub>"
//  - subscription_cancelled            -> subscription_cancel, "lemonsqueezy:subscription_cancel:<sub>"
//  - order_refunded                    -> refund (negative),
//      "lemonsqueezy:refund:order:<order id>:<refunded_amount>"
//  - anything else                     -> ignored.
// Refunds: the order's refunded_amount is cumulative (a second partial refund
// sends a larger one; a payload without it refunds the total). The event
// carries that total as a model::CumulativeAmount keyed
// "lemonsqueezy:refund:order:<order id>", and the store, inside its write
// transaction, stores only the increase over the order's refund rows: the
// order's refunds always sum to -(largest refunded_amount seen), whatever
// the retries, order of arrival or restarts. The delivery id (parking) also
// names the cumulative amount, so a second partial refund is never taken for
// a retry of the first.
// Amounts: the *_usd fields Lemon Squeezy computes at the sale (total_usd,
// refunded_amount_usd), else the order currency through the rate table; the
// original kept in metadata. Lemon Squeezy's subscription objects carry no
// price, so subscription_start / _cancel carry the amount given in
// meta.custom_data.monthly_amount_usd_cents if the checkout passed one, else
// 0 (metadata amount_known=false): revenue is counted by the payments.
// Products: variant id (first_order_item.variant_id / variant_id), then
// "product:<product id>", then meta.custom_data.tally_product, then "*".
#pragma once

#include <string>

#include "ingest/sources/currency.h"
#include "ingest/sources/source.h"

namespace tally::ingest {

class LemonSqueezySource final : public Source {
 public:
  LemonSqueezySource(std::string signing_secret, CurrencyConverter converter);

  std::string_view provider() const override { return "lemonsqueezy"; }
  core::Status Verify(const SourceRequest& request, core::Timestamp now) const override;
  core::Result<Conversion> Convert(std::string_view body,
                                   std::span<const store::ProductMapping> mappings) const override;

 private:
  std::string secret_;
  CurrencyConverter converter_;
};

}  // namespace tally::ingest
