// ingest::Source: one provider's webhook or callback turned into events.
//
// A source does two separate things, so that a parked delivery can be
// converted again later by the very same code:
//  - Verify authenticates the raw request (signature over the exact bytes,
//    timestamp window, URL token). Nothing is parsed before it passes.
//  - Convert turns a verified body into events using the product mappings of
//    its provider. It is pure (same body + same mappings -> same result), so
//    it runs both for a live request and inside the store's replay
//    transaction. Its result says whether the delivery is counted, parked
//    (product not mapped yet, or no exchange rate) or deliberately ignored
//    (an event type tally does not count, a zero-amount invoice).
// Every produced event carries a deterministic event_id derived from the
// provider's ids, so a retried delivery is a duplicate, never a second row.
// Thread-safety: implementations are immutable after construction; all
// methods may run concurrently.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/event.h"
#include "store/parked.h"

namespace tally::ingest {

struct SourceRequest {
  const std::map<std::string, std::string>* headers = nullptr;  // lowercase names
  std::string_view body;
  std::map<std::string, std::string> path_params;  // e.g. the Gumroad URL token
};

struct Conversion {
  enum class Kind {
    kEvents,    // `events` are ready to store
    kUnmapped,  // park: `reason` names what is missing (ids, currency)
    kIgnored,   // acknowledged, nothing to count: `reason` says why
  };
  Kind kind = Kind::kIgnored;
  std::string provider_event_id;  // the delivery's idempotency key at the provider
  std::string event_type;         // the provider's event name
  std::vector<model::Event> events;
  std::string reason;
};

class Source {
 public:
  virtual ~Source() = default;

  // "stripe", "lemonsqueezy", "gumroad", "github", "litellm".
  virtual std::string_view provider() const = 0;

  // OK when the request is authentic at `now`; otherwise unauthenticated
  // with a message saying what failed (never echoing a secret), or
  // unavailable when the source has no secret configured.
  virtual core::Status Verify(const SourceRequest& request, core::Timestamp now) const = 0;

  // The text Convert reads and a parked row keeps, from a verified request:
  // the body itself for most providers. A provider that names the event only
  // in headers (GitHub: X-GitHub-Event, X-GitHub-Delivery) wraps them with
  // the body here, so that a parked delivery can be converted alone later.
  virtual core::Result<std::string> Payload(const SourceRequest& request) const {
    return std::string(request.body);
  }

  // See the header comment. invalid_argument when the body is not what the
  // provider sends (not JSON, a required field missing or mistyped).
  virtual core::Result<Conversion> Convert(std::string_view body,
                                           std::span<const store::ProductMapping> mappings) const = 0;
};

// The resolver the store calls when parking or replaying: dispatches each
// parked event to the source of its provider. Sources must outlive it.
store::ParkedResolver MakeParkedResolver(std::vector<const Source*> sources);

}  // namespace tally::ingest
