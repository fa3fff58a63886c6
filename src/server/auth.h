// API keys: creation and request authentication.
//
// A key is "tally_" + 48 random hex characters (192 bits from the OS CSPRNG).
// Only its SHA-256 is stored (a fast hash is right here: the key is random,
// not a password, so there is nothing to brute-force). Scopes: ingest, read,
// admin; admin implies the other two.
// Authenticator caches verified keys for `cache_ttl` so a hot ingest path does
// not hit the store per request; a revocation takes effect within that TTL.
// Thread-safety: Authenticator is safe for concurrent use.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace tally::server {

struct Principal {
  std::string key_id;
  std::string name;
  unsigned scopes = 0;

  // admin implies every scope.
  bool Has(store::Scope scope) const { return (scopes & (scope | store::kScopeAdmin)) != 0; }
};

struct NewApiKey {
  std::string id;
  std::string secret;  // shown once; never stored
};

// Creates and stores a key with the given scopes (bit set of store::Scope).
core::Result<NewApiKey> CreateApiKey(store::Store& store, unsigned scopes, const std::string& name,
                                     core::Timestamp now);

class Authenticator {
 public:
  Authenticator(store::Store& store, const core::Clock& clock,
                std::chrono::seconds cache_ttl = std::chrono::seconds(10));

  // From an Authorization header value ("Bearer tally_..."). unauthenticated
  // when missing, malformed, unknown or revoked.
  core::Result<Principal> Authenticate(std::optional<std::string_view> authorization);
  // By the key's SHA-256 (browser sessions keep the hash, never the key).
  core::Result<Principal> AuthenticateHash(const std::string& secret_hash);

 private:
  struct CacheEntry {
    Principal principal;
    core::Timestamp verified_at;
  };
  store::Store& store_;
  const core::Clock& clock_;
  const std::chrono::seconds cache_ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // by secret hash; guarded by mu_
};

}  // namespace tally::server
