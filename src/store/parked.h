// Product mappings and parked webhook events (DESIGN.md: "a webhook that
// can't be mapped yet is accepted and parked, visible, and replayed when the
// mapping arrives — never dropped").
//
// A ProductMapping says which tally product (and revenue channel) a
// provider's external id belongs to: a Stripe price or product id, a Gumroad
// product id, a Lemon Squeezy variant or product id, a GitHub repository.
// The external id "*" is the provider-wide default (one product per account).
//
// A ParkedEvent is a verified webhook whose product is not mapped yet: its raw
// payload is kept so that it can be converted again, by the same source code,
// once a mapping exists. The store does not understand payloads; it calls a
// ParkedResolver (provided by src/ingest/sources) inside its own write
// transaction, so a mapping, the events it releases and the parked rows
// marked replayed are committed together or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/event.h"

namespace tally::store {

struct ProductMapping {
  std::string provider;     // "stripe", "gumroad", "lemonsqueezy", "github"
  std::string external_id;  // the provider's id, or "*" for the provider-wide default
  std::string product_id;   // tally product UUID (must exist)
  std::optional<std::string> channel_id;  // tally revenue channel UUID (must exist when set)
  core::Timestamp created_at;
};

struct ParkedEvent {
  std::int64_t id = 0;            // assigned by the store
  std::string provider;           // "stripe", ...
  std::string provider_event_id;  // idempotency key of the delivery within its provider
  std::string event_type;         // provider's type, e.g. "charge.succeeded"
  std::string reason;             // why it is parked, naming the unmapped ids
  std::string payload;            // the verified raw body
  core::Timestamp received_at;
  std::optional<core::Timestamp> replayed_at;  // set once its events are stored
};

// What a parked payload becomes with the mappings at hand.
struct ParkedResolution {
  bool resolved = false;             // false: still unmapped; stays parked with `reason`
  std::string reason;                // when not resolved
  std::vector<model::Event> events;  // when resolved (may be empty: nothing to count)
};

// Converts one parked event given every mapping of its provider. Called with
// the store's write lock held: it must not call back into the store. An
// error leaves the event parked with the error's message as its reason.
using ParkedResolver = std::function<core::Result<ParkedResolution>(
    const ParkedEvent& parked, std::span<const ProductMapping> mappings)>;

struct ParkOutcome {
  enum class Kind {
    kParked,     // newly parked
    kDuplicate,  // a delivery with this (provider, provider_event_id) was parked before
    kStored,     // a mapping appeared meanwhile: its events were stored instead
  };
  Kind kind = Kind::kParked;
  std::int64_t parked_id = 0;  // kParked / kDuplicate
  std::int64_t accepted = 0;   // kStored: events newly stored
  std::int64_t duplicates = 0; // kStored: events already stored
};

struct ReplayStats {
  std::int64_t replayed = 0;     // parked events whose events are now stored
  std::int64_t still_parked = 0; // parked events of the provider still unmapped
  std::int64_t accepted = 0;     // events newly stored by the replay
  std::int64_t duplicates = 0;   // events that were already stored
};

// What one resolver answer means for a parked event, the same on every
// backend: resolved -> its events are appended (through `append`, in the
// caller's transaction, as a batch whose source is `source_prefix` plus the
// provider) and `stored` is set with the append's stats; otherwise the event
// stays parked with `reason`: the resolver's error, else its reason, else the
// reason it was parked with.
struct ParkedStep {
  bool stored = false;
  std::string reason;
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
};
// The backend's append inside its open transaction (AppendInTransaction).
struct AppendStats;
using ParkedAppend = std::function<core::Status(std::span<const model::Batch* const> batches,
                                                std::vector<AppendStats>* stats)>;
core::Result<ParkedStep> ApplyParkedResolution(const ParkedEvent& parked,
                                               core::Result<ParkedResolution> resolution,
                                               std::string_view source_prefix,
                                               const ParkedAppend& append);

}  // namespace tally::store
