// Browser sessions for the built-in web UI.
//
// An operator logs in with an API key once; the server answers with an
// opaque session token in an HttpOnly, SameSite=Strict cookie (the key never
// sits in the browser's storage or in a URL) and a CSRF token that the page
// sends back in X-CSRF-Token on every state-changing request. Sessions carry
// the key's principal and expire after `ttl` (sliding); a revoked key ends
// its sessions within the Authenticator's cache TTL because every lookup
// re-checks the key.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "server/auth.h"

namespace tally::server {

inline constexpr std::string_view kSessionCookie = "tally_session";

struct UiSession {
  std::string csrf_token;
  std::string key_hash;  // the API key's SHA-256, to re-validate it
  Principal principal;
  core::Timestamp expires_at;
};

class SessionStore {
 public:
  SessionStore(const core::Clock& clock, std::chrono::seconds ttl = std::chrono::hours(12))
      : clock_(clock), ttl_(ttl) {}

  // Returns the new session's token.
  std::string Create(const Principal& principal, const std::string& key_hash, std::string* csrf_token);
  // The live session for a token (extending it), or nullopt.
  std::optional<UiSession> Find(const std::string& token);
  void Remove(const std::string& token);

 private:
  const core::Clock& clock_;
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, UiSession> sessions_;  // by SHA-256 of the token; guarded by mu_
};

// The value of one cookie from a Cookie header, or empty.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace tally::server
