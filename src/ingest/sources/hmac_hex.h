// Verification of "hex HMAC-SHA256 of the raw body" signatures (Lemon
// Squeezy's X-Signature): lowercase or uppercase hex accepted, compared in
// constant time. (GitHub's X-Hub-Signature-256 is compared byte for byte, as
// GitHub's own libraries do: see github_source.h.)
#pragma once

#include <string_view>

#include "core/ids.h"

namespace tally::ingest {

// True when `signature_hex` is HMAC-SHA256(secret, body) in hex.
inline bool HmacHexMatches(std::string_view secret, std::string_view body,
                           std::string_view signature_hex) {
  if (secret.empty() || signature_hex.size() != 64) return false;
  std::string expected = core::HmacSha256Hex(secret, body);
  return core::ConstantTimeEquals(expected, core::LowerAscii(signature_hex));
}

}  // namespace tally::ingest
