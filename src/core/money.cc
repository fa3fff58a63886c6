#include "core/money.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace tally::core {
namespace {

Error BadDecimal(std::string_view text, std::string_view why) {
  return Error::InvalidArgument(fmt::format("'{}' is not a valid amount: {}", text, why));
}

}  // namespace

Result<std::int64_t> ParseFixedPoint(std::string_view text, int scale, int max_decimals) {
  std::string_view s = text;
  if (s.empty()) return std::unexpected(BadDecimal(text, "empty"));
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  // Collect all significant digits and the decimal exponent they carry.
  __int128 mantissa = 0;
  int exponent = 0;
  int digits = 0;
  bool seen_point = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (mantissa > (static_cast<__int128>(1) << 100)) {
        return std::unexpected(BadDecimal(text, "too many digits"));
      }
      mantissa = mantissa * 10 + (c - '0');
      if (seen_point) --exponent;
      ++digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return std::unexpected(BadDecimal(text, "no digits"));
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return std::unexpected(BadDecimal(text, "unexpected character"));
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    if (i == s.size()) return std::unexpected(BadDecimal(text, "empty exponent"));
    int e = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::unexpected(BadDecimal(text, "unexpected character"));
      e = e * 10 + (s[i] - '0');
      if (e > 400) return std::unexpected(BadDecimal(text, "exponent out of range"));
    }
    exponent += exp_negative ? -e : e;
  }
  // Strip trailing zeros so "1.500000000" counts as one decimal.
  while (mantissa != 0 && exponent < 0 && mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  if (mantissa == 0) return 0;
  if (-exponent > max_decimals) {
    return std::unexpected(BadDecimal(text, fmt::format("more than {} decimals", max_decimals)));
  }
  int shift = scale + exponent;  // >= 0 here because max_decimals <= scale
  const __int128 limit = std::numeric_limits<std::int64_t>::max();
  for (int k = 0; k < shift; ++k) {
    mantissa *= 10;
    if (mantissa > limit) return std::unexpected(BadDecimal(text, "out of range"));
  }
  if (mantissa > limit) return std::unexpected(BadDecimal(text, "out of range"));
  auto v = static_cast<std::int64_t>(mantissa);
  return negative ? -v : v;
}

std::string FormatFixedPoint(std::int64_t units, int scale, int min_decimals) {
  bool negative = units < 0;
  unsigned __int128 mag = negative ? -static_cast<__int128>(units) : units;
  unsigned __int128 pow = 1;
  for (int k = 0; k < scale; ++k) pow *= 10;
  auto whole = static_cast<unsigned long long>(mag / pow);
  auto frac = static_cast<unsigned long long>(mag % pow);
  std::string frac_text = fmt::format("{:0{}}", frac, scale);
  while (static_cast<int>(frac_text.size()) > min_decimals && frac_text.back() == '0') {
    frac_text.pop_back();
  }
  std::string out = negative ? "-" : "";
  out += std::to_string(whole);
  if (!frac_text.empty()) out += "." + frac_text;
  return out;
}

std::string ShortestDouble(double value) { return fmt::format("{}", value); }

Result<Money> Money::Parse(std::string_view text, int max_decimals) {
  auto units = ParseFixedPoint(text, 6, max_decimals);
  if (!units) return std::unexpected(std::move(units).error());
  return Money(*units);
}

Result<Money> Money::FromDouble(double value, int max_decimals) {
  if (!std::isfinite(value)) {
    return std::unexpected(Error::InvalidArgument(fmt::format("'{}' is not a finite number", value)));
  }
  return Parse(ShortestDouble(value), max_decimals);
}

std::string Money::ToString() const { return FormatFixedPoint(micros_, 6, 2); }

}  // namespace tally::core
