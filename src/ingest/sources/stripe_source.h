// StripeSource: Stripe webhook events to revenue_events (seed §7).
//
// Mapping (docs/integrations.md has the table):
//  - payment_intent.succeeded, charge.succeeded, checkout.session.completed
//    (mode payment, paid) -> payment. All three share the event_id
//    "stripe:payment:<payment intent id>" (the charge or session id when
//    there is no intent), so one payment is counted once whichever arrives
//    first. Intents and charges that belong to an invoice are ignored: the
//    invoice.paid of the same payment counts it and names the price.
//  - invoice.paid (amount_paid > 0) -> payment with the subscription in
//    metadata, keyed the same way (intent, else charge, else invoice id).
//  - customer.subscription.created -> subscription_start; .deleted, and
//    .updated turning cancel_at_period_end on -> subscription_cancel; both
//    carry the plan's monthly amount (sum of items, annual / weekly / daily
//    prices normalized to a month) and are keyed per subscription, so a
//    cancel announced by .updated and confirmed by .deleted counts once.
//  - charge.refunded -> refund with a negative amount, keyed by refund id.
//  - anything else -> ignored (acknowledged, not stored).
// Amounts: minor units by currency exponent, non-USD converted by the rate
// table, original amount/currency/rate kept in metadata. Event time: the
// Stripe event's `created`. Products: the first mapped id of price, product,
// the object's metadata.tally_product, then the "*" default; none -> parked.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "ingest/sources/currency.h"
#include "ingest/sources/source.h"

namespace tally::ingest {

class StripeSource final : public Source {
 public:
  struct Options {
    std::vector<std::string> secrets;             // every valid whsec_ secret
    std::chrono::seconds tolerance{300};
  };
  StripeSource(Options options, CurrencyConverter converter);

  std::string_view provider() const override { return "stripe"; }
  // Reads the Stripe-Signature header; see stripe_signature.h.
  core::Status Verify(const SourceRequest& request, core::Timestamp now) const override;
  core::Result<Conversion> Convert(std::string_view body,
                                   std::span<const store::ProductMapping> mappings) const override;

 private:
  Options options_;
  CurrencyConverter converter_;
};

}  // namespace tally::ingest
