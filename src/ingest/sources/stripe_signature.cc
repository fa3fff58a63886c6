#include "ingest/sources/stripe_signature.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <vector>

#include "core/ids.h"

namespace tally::ingest {

core::Status VerifyStripeSignature(std::string_view header, std::string_view payload,
                                   std::span<const std::string> secrets, core::Timestamp now,
                                   std::chrono::seconds tolerance) {
  std::optional<std::int64_t> t;
  std::vector<std::string_view> v1;
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      std::int64_t parsed = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec == std::errc() && ptr == value.data() + value.size()) t = parsed;
    } else if (key == "v1") {
      v1.push_back(value);
    }
  }
  if (!t) {
    return std::unexpected(core::Error::Unauthenticated(
        "Stripe-Signature: unable to extract a timestamp (t=) from the header"));
  }
  if (v1.empty()) {
    return std::unexpected(
        core::Error::Unauthenticated("Stripe-Signature: no signature with scheme v1 in the header"));
  }
  // Check the HMAC first so that the timestamp message is only ever given
  // for a genuine (if old) request.
  std::string signed_payload = fmt::format("{}.", *t);
  signed_payload.append(payload);
  bool matched = false;
  for (const auto& secret : secrets) {
    std::string expected = core::HmacSha256Hex(secret, signed_payload);
    for (std::string_view candidate : v1) {
      // No early exit: every comparison runs, so timing says nothing about
      // which secret or signature matched.
      matched |= core::ConstantTimeEquals(expected, candidate);
    }
  }
  if (!matched) {
    return std::unexpected(core::Error::Unauthenticated(
        "Stripe-Signature: no v1 signature matches the payload with any configured webhook "
        "secret (wrong secret, or the body was changed after signing)"));
  }
  std::int64_t now_s = core::ToMicros(now) / 1'000'000;
  std::int64_t age = now_s - *t;
  if (age > tolerance.count()) {
    return std::unexpected(core::Error::Unauthenticated(fmt::format(
        "Stripe-Signature: timestamp t={} is {} s old, outside the {} s tolerance", *t, age,
        tolerance.count())));
  }
  return core::OkStatus();
}

std::string StripeTestHeader(std::string_view payload, std::string_view secret, std::int64_t t) {
  std::string signed_payload = fmt::format("{}.", t);
  signed_payload.append(payload);
  return fmt::format("t={},v1={}", t, core::HmacSha256Hex(secret, signed_payload));
}

}  // namespace tally::ingest
