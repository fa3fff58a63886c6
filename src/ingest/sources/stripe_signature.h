// Stripe-Signature verification, exactly as Stripe specifies
// (docs.stripe.com/webhooks#verify-manually; stripe-node Webhooks.js):
//  header "t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]"; the signed
//  string is "<t>.<raw body>"; each v1 is lowercase hex HMAC-SHA256 keyed with
//  the whole endpoint secret ("whsec_..." as text, not decoded). Valid when
//  any v1 matches any configured secret (compared in constant time) and
//  now - t <= tolerance. Other schemes (v0) are ignored.
// Like stripe-node, a timestamp in the future is not rejected: clock skew
// between Stripe and us must not lose deliveries, and a future t gives an
// attacker nothing without a valid HMAC.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace tally::ingest {

// OK, or unauthenticated naming the failure: no t, no v1, timestamp too old
// (with its age), or no signature matching any secret.
core::Status VerifyStripeSignature(std::string_view header, std::string_view payload,
                                   std::span<const std::string> secrets, core::Timestamp now,
                                   std::chrono::seconds tolerance);

// "t=<t>,v1=<hmac>" for tests and tools (stripe-node's generateTestHeaderString).
std::string StripeTestHeader(std::string_view payload, std::string_view secret, std::int64_t t);

}  // namespace tally::ingest
