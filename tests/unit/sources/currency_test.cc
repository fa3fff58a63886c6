#include "ingest/sources/currency.h"

#include <gtest/gtest.h>

namespace tally::ingest {
namespace {

TEST(CurrencyTest, MinorUnitsFollowTheCurrencyExponent) {
  EXPECT_EQ(CurrencyExponent("usd"), 2);
  EXPECT_EQ(CurrencyExponent("JPY"), 0);
  EXPECT_EQ(CurrencyExponent("krw"), 0);
  EXPECT_EQ(CurrencyExponent("KWD"), 3);
  CurrencyConverter none;
  auto usd = none.ToUsd(1999, "usd");
  ASSERT_TRUE(usd);
  EXPECT_EQ(usd->usd.ToString(), "19.99");
  EXPECT_EQ(usd->currency, "USD");
}

TEST(CurrencyTest, ConvertsWithTheRateTableAndKeepsTheOriginal) {
  CurrencyConverter fx(std::map<std::string, std::string>{{"EUR", "1.08"}, {"JPY", "0.0067"}, {"KWD", "3.25"}});
  auto eur = fx.ToUsd(999, "eur");
  ASSERT_TRUE(eur);
  EXPECT_EQ(eur->usd.ToString(), "10.79");  // 9.99 * 1.08 = 10.7892
  EXPECT_EQ(eur->original_amount, "9.99");
  EXPECT_EQ(eur->rate, "1.08");
  auto jpy = fx.ToUsd(1500, "JPY");  // zero-decimal: 1500 yen, not 15.00
  ASSERT_TRUE(jpy);
  EXPECT_EQ(jpy->usd.ToString(), "10.05");
  EXPECT_EQ(jpy->original_amount, "1500");
  auto kwd = fx.ToUsd(1234, "KWD");  // 1.234 KWD * 3.25 = 4.0105 -> 4.01
  ASSERT_TRUE(kwd);
  EXPECT_EQ(kwd->usd.ToString(), "4.01");
  auto refund_half = fx.ToUsd(-5, "USD");
  ASSERT_TRUE(refund_half);
  EXPECT_EQ(refund_half->usd.ToString(), "-0.05");
}

TEST(CurrencyTest, MissingRateIsNotFoundNamingTheCurrency) {
  CurrencyConverter fx;
  auto gbp = fx.ToUsd(100, "gbp");
  ASSERT_FALSE(gbp);
  EXPECT_EQ(gbp.error().code(), core::ErrorCode::kNotFound);
  EXPECT_NE(gbp.error().message().find("GBP"), std::string::npos);
  EXPECT_FALSE(fx.ToUsd(100, "dollars"));
}

}  // namespace
}  // namespace tally::ingest
