#include "server/sessions.h"

#include "core/ids.h"

namespace tally::server {

std::string SessionStore::Create(const Principal& principal, const std::string& key_hash,
                                 std::string* csrf_token) {
  std::string token = core::RandomHex(32);
  UiSession s{core::RandomHex(16), key_hash, principal, clock_.Now() + ttl_};
  *csrf_token = s.csrf_token;
  std::lock_guard lock(mu_);
  // Expired sessions are dropped here rather than by a timer: creation is
  // rare and this keeps the map bounded by the live sessions.
  auto now = clock_.Now();
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_at <= now; });
  sessions_[core::Sha256Hex(token)] = std::move(s);
  return token;
}

std::optional<UiSession> SessionStore::Find(const std::string& token) {
  if (token.empty()) return std::nullopt;
  std::string hash = core::Sha256Hex(token);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(hash);
  if (it == sessions_.end()) return std::nullopt;
  auto now = clock_.Now();
  if (it->second.expires_at <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.expires_at = now + ttl_;
  return it->second;
}

void SessionStore::Remove(const std::string& token) {
  std::lock_guard lock(mu_);
  sessions_.erase(core::Sha256Hex(token));
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return "";
}

}  // namespace tally::server
