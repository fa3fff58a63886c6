// Identifiers: UUIDs (products, channels, tasks), slugs (agents, open
// vocabularies), random tokens and content hashes (OpenSSL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::core {

// Canonical 8-4-4-4-12 hex form, either case.
bool IsUuid(std::string_view s);
// Lowercases a UUID; callers validate with IsUuid first.
std::string LowerAscii(std::string_view s);
// Lowercase slug: [a-z0-9][a-z0-9._-]{0,63}.
bool IsSlug(std::string_view s);
// Agent ids are slugs too, but keep what operators type ("kev", "research-agent").
inline bool IsAgentId(std::string_view s) { return IsSlug(s); }

// Random version-4 UUID from the OS CSPRNG.
std::string NewUuidV4();
// A version-4-shaped UUID derived from a seeded generator (deterministic demo data).
std::string UuidFromBits(std::uint64_t hi, std::uint64_t lo);
// n random bytes from the OS CSPRNG, hex encoded (2n characters).
std::string RandomHex(size_t n_bytes);
// Lowercase hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);
// Lowercase hex HMAC-SHA256.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Constant-time equality for secrets (lengths may leak, contents do not).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tally::core
