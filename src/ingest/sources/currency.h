// Currency amounts from payment providers: minor units to exact USD.
//
// Providers send integer minor units whose size depends on the currency
// (ISO 4217 exponent): 1999 USD cents = 19.99, 1999 JPY = 1999 yen, 1999 KWD
// fils = 1.999. Non-USD amounts are converted with a configured rate table
// (USD per unit, exact decimal) and rounded half away from zero to cents, as
// revenue_events.amount_usd holds two decimals. Nothing is guessed: a
// currency without a rate is an error naming it, so its webhook is parked
// until a rate is configured.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/money.h"
#include "core/result.h"

namespace tally::ingest {

// Decimal digits of the currency's minor unit: 0 for zero-decimal currencies
// (JPY, KRW, ... as Stripe lists them), 3 for BHD, JOD, KWD, OMR, TND, else 2.
// `code` is case-insensitive.
int CurrencyExponent(std::string_view code);

struct ConvertedAmount {
  core::Money usd;                 // rounded to cents
  std::string currency;            // original code, uppercase
  std::string original_amount;     // decimal text in the original currency, e.g. "9.99"
  std::string rate;                // USD per unit used ("1" for USD)
};

class CurrencyConverter {
 public:
  // rates: uppercase code -> USD per unit as exact decimal text (config).
  explicit CurrencyConverter(std::map<std::string, std::string> rates = {});

  // minor units of `code` to USD. invalid_argument when the currency code is
  // not three letters; not_found when there is no rate for it.
  core::Result<ConvertedAmount> ToUsd(std::int64_t minor_units, std::string_view code) const;

 private:
  std::map<std::string, std::int64_t> micro_usd_per_unit_;
};

}  // namespace tally::ingest
