#include "server/auth.h"

#include "core/ids.h"

namespace tally::server {

core::Result<NewApiKey> CreateApiKey(store::Store& store, unsigned scopes, const std::string& name,
                                     core::Timestamp now) {
  if (scopes == 0) return std::unexpected(core::Error::InvalidArgument("a key needs at least one scope"));
  NewApiKey key;
  key.id = "key_" + core::RandomHex(6);
  key.secret = "tally_" + core::RandomHex(24);
  store::ApiKeyRecord record;
  record.id = key.id;
  record.name = name;
  record.secret_hash = core::Sha256Hex(key.secret);
  record.scopes = scopes;
  record.created_at = now;
  TALLY_RETURN_IF_ERROR(store.CreateApiKey(record));
  return key;
}

Authenticator::Authenticator(store::Store& store, const core::Clock& clock, std::chrono::seconds cache_ttl)
    : store_(store), clock_(clock), cache_ttl_(cache_ttl) {}

core::Result<Principal> Authenticator::Authenticate(std::optional<std::string_view> authorization) {
  if (!authorization) {
    return std::unexpected(core::Error::Unauthenticated("missing Authorization: Bearer <api key> header"));
  }
  std::string_view value = *authorization;
  constexpr std::string_view kBearer = "Bearer ";
  auto lower = [](std::string_view s) { return core::LowerAscii(s); };
  if (value.size() <= kBearer.size() || lower(value.substr(0, kBearer.size())) != "bearer ") {
    return std::unexpected(core::Error::Unauthenticated("Authorization header must be 'Bearer <api key>'"));
  }
  std::string_view secret = value.substr(kBearer.size());
  return AuthenticateHash(core::Sha256Hex(secret));
}

core::Result<Principal> Authenticator::AuthenticateHash(const std::string& hash) {
  core::Timestamp now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now - it->second.verified_at < cache_ttl_) return it->second.principal;
  }
  auto record = store_.FindApiKeyByHash(hash);
  if (!record) {
    if (record.error().code() == core::ErrorCode::kNotFound) {
      std::lock_guard lock(mu_);
      cache_.erase(hash);
      return std::unexpected(core::Error::Unauthenticated("unknown or revoked API key"));
    }
    return std::unexpected(record.error());
  }
  Principal p{record->id, record->name, record->scopes};
  std::lock_guard lock(mu_);
  cache_[hash] = CacheEntry{p, now};
  return p;
}

}  // namespace tally::server
