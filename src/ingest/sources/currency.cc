#include "ingest/sources/currency.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace tally::ingest {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Stripe's zero-decimal list (docs.stripe.com/currencies#zero-decimal).
constexpr std::array<std::string_view, 16> kZeroDecimal = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"};
constexpr std::array<std::string_view, 5> kThreeDecimal = {"BHD", "JOD", "KWD", "OMR", "TND"};

std::int64_t Pow10(int n) {
  std::int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// round(num / den) half away from zero; den > 0.
__int128 DivRound(__int128 num, __int128 den) {
  __int128 q = num / den;
  __int128 r = num % den;
  if (r < 0) r = -r;
  if (2 * r >= den) q += (num < 0 ? -1 : 1);
  return q;
}

}  // namespace

int CurrencyExponent(std::string_view code) {
  std::string c = Upper(code);
  if (std::find(kZeroDecimal.begin(), kZeroDecimal.end(), c) != kZeroDecimal.end()) return 0;
  if (std::find(kThreeDecimal.begin(), kThreeDecimal.end(), c) != kThreeDecimal.end()) return 3;
  return 2;
}

CurrencyConverter::CurrencyConverter(std::map<std::string, std::string> rates) {
  for (const auto& [code, text] : rates) {
    // Config validation already checked every rate; skip anything else.
    if (auto m = core::Money::Parse(text); m && m->micros() > 0) {
      micro_usd_per_unit_[Upper(code)] = m->micros();
    }
  }
}

core::Result<ConvertedAmount> CurrencyConverter::ToUsd(std::int64_t minor_units,
                                                       std::string_view code) const {
  std::string c = Upper(code);
  if (c.size() != 3 || !std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
    return std::unexpected(
        core::Error::InvalidArgument(fmt::format("currency '{}' is not a 3-letter code", code)));
  }
  const int exponent = CurrencyExponent(c);
  const std::int64_t unit = Pow10(exponent);
  std::int64_t rate_micros = core::Money::kMicrosPerUnit;
  if (c != "USD") {
    auto it = micro_usd_per_unit_.find(c);
    if (it == micro_usd_per_unit_.end()) {
      return std::unexpected(core::Error::NotFound(fmt::format(
          "no exchange rate for currency {} (set [currency] {} = \"<USD per unit>\" or TALLY_FX_RATES)",
          c, c)));
    }
    rate_micros = it->second;
  }
  // usd_micros = minor / 10^exponent * rate; then to whole cents.
  __int128 usd_micros = DivRound(static_cast<__int128>(minor_units) * rate_micros, unit);
  __int128 cents = DivRound(usd_micros, 10'000);
  __int128 micros = cents * 10'000;
  if (micros > INT64_MAX || micros < INT64_MIN) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("amount {} {} minor units overflows micro-USD", minor_units, c)));
  }
  ConvertedAmount out;
  out.usd = core::Money::FromMicros(static_cast<std::int64_t>(micros));
  out.currency = c;
  out.original_amount = core::FormatFixedPoint(minor_units, exponent, exponent);
  out.rate = core::FormatFixedPoint(rate_micros, 6, 0);
  return out;
}

}  // namespace tally::ingest
