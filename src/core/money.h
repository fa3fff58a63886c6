// Money: an exact amount of US dollars as int64 micro-USD (1e-6 USD).
//
// Floats never hold money in tally. Parsing is exact decimal: "12.345678",
// "-0.5", "1e-05" (exponent form, as shortest double formatting produces) are
// accepted; anything that is not a whole number of micro-USD (more than 6
// decimals) or that overflows int64 is an error naming the text. The range is
// about +/- 9.2e12 USD.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tally::core {

class Money {
 public:
  static constexpr std::int64_t kMicrosPerUnit = 1'000'000;

  constexpr Money() = default;
  static constexpr Money FromMicros(std::int64_t micros) { return Money(micros); }

  // Exact decimal text with at most max_decimals fractional digits (<= 6).
  static Result<Money> Parse(std::string_view text, int max_decimals = 6);
  // A JSON number: formatted as the shortest text that round-trips, then
  // parsed exactly. Rejects NaN and infinities.
  static Result<Money> FromDouble(double value, int max_decimals = 6);

  constexpr std::int64_t micros() const { return micros_; }
  double ToDouble() const { return static_cast<double>(micros_) / kMicrosPerUnit; }

  // Plain decimal, trailing zeros trimmed but at least two decimals: "12.50",
  // "0.000123", "-3.00".
  std::string ToString() const;

  constexpr Money operator+(Money o) const { return Money(micros_ + o.micros_); }
  constexpr Money operator-(Money o) const { return Money(micros_ - o.micros_); }
  constexpr Money operator-() const { return Money(-micros_); }
  constexpr Money& operator+=(Money o) { micros_ += o.micros_; return *this; }
  constexpr Money& operator-=(Money o) { micros_ -= o.micros_; return *this; }
  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(std::int64_t micros) : micros_(micros) {}
  std::int64_t micros_ = 0;
};

// Parses a decimal into an integer count of 10^-scale units, exactly.
// Shared by Money (scale 6) and other fixed-point columns.
Result<std::int64_t> ParseFixedPoint(std::string_view text, int scale, int max_decimals);
// Formats units of 10^-scale as decimal text with at least min_decimals.
std::string FormatFixedPoint(std::int64_t units, int scale, int min_decimals);
// Shortest round-trip text of a finite double ("0.1", "1e-05").
std::string ShortestDouble(double value);

}  // namespace tally::core
