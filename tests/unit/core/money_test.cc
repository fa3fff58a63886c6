// Money: exact decimal parsing and formatting of int64 micro-USD.
#include "core/money.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tally::core {
namespace {

std::int64_t Micros(std::string_view text, int max_decimals = 6) {
  auto m = Money::Parse(text, max_decimals);
  EXPECT_TRUE(m) << text << ": " << m.error().ToString();
  return m ? m->micros() : -424242;
}

TEST(MoneyTest, ParsesExactDecimals) {
  EXPECT_EQ(Micros("12.345678"), 12'345'678);
  EXPECT_EQ(Micros("-0.5"), -500'000);
  EXPECT_EQ(Micros("+3"), 3'000'000);
  EXPECT_EQ(Micros("0"), 0);
  EXPECT_EQ(Micros("-0.000001"), -1);
  // Trailing zeros are not decimals that matter.
  EXPECT_EQ(Micros("1.500000000"), 1'500'000);
  EXPECT_EQ(Micros("9.90", 2), 9'900'000);
}

TEST(MoneyTest, ParsesExponentFormAsShortestDoubleFormattingWritesIt) {
  EXPECT_EQ(Micros("1e-05"), 10);
  EXPECT_EQ(Micros("2E-6"), 2);
  EXPECT_FALSE(Money::Parse("2.5e-6"));  // 2.5 micro-USD: not a whole number of them
  EXPECT_EQ(Micros("1.5e3"), 1'500'000'000);
}

TEST(MoneyTest, RejectsWhatIsNotAWholeNumberOfMicroUsd) {
  for (const char* bad : {"", "-", "abc", "1.2345678", "12.3.4", "1e", "1e+", "1,5", "1 ", " 1", "$5", "0x10"}) {
    auto m = Money::Parse(bad);
    ASSERT_FALSE(m) << "accepted '" << bad << "'";
    EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(m.error().message().find(std::string("'") + bad + "'"), std::string::npos) << m.error().message();
  }
}

TEST(MoneyTest, MaxDecimalsFollowsTheColumn) {
  EXPECT_FALSE(Money::Parse("9.999", 2));
  EXPECT_NE(Money::Parse("9.999", 2).error().message().find("more than 2 decimals"), std::string::npos);
  EXPECT_TRUE(Money::Parse("9.9990", 3));
  EXPECT_FALSE(Money::Parse("0.12345", 4));
}

TEST(MoneyTest, RejectsOverflowInsteadOfWrapping) {
  EXPECT_EQ(Micros("9223372036854.775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(Money::Parse("9223372036854.775808"));
  EXPECT_FALSE(Money::Parse("1e13"));
  EXPECT_FALSE(Money::Parse("1e400"));
  EXPECT_FALSE(Money::Parse(std::string(60, '9')));
}

TEST(MoneyTest, FromDoubleIsExactForTheDecimalTheDoubleWasWrittenAs) {
  // 0.1 + 0.2 as doubles is 0.30000000000000004: more than 6 decimals, rejected.
  EXPECT_EQ(Money::FromDouble(0.1)->micros(), 100'000);
  EXPECT_EQ(Money::FromDouble(19.99)->micros(), 19'990'000);
  EXPECT_EQ(Money::FromDouble(0.000225)->micros(), 225);
  EXPECT_FALSE(Money::FromDouble(0.1 + 0.2));
  EXPECT_FALSE(Money::FromDouble(1e-7));
  EXPECT_FALSE(Money::FromDouble(std::nan("")));
  EXPECT_FALSE(Money::FromDouble(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(Money::FromDouble(19.999, 2));
}

TEST(MoneyTest, ToStringKeepsAtLeastTwoDecimals) {
  EXPECT_EQ(Money::FromMicros(12'500'000).ToString(), "12.50");
  EXPECT_EQ(Money::FromMicros(123).ToString(), "0.000123");
  EXPECT_EQ(Money::FromMicros(-3'000'000).ToString(), "-3.00");
  EXPECT_EQ(Money::FromMicros(0).ToString(), "0.00");
  EXPECT_EQ(Money::FromMicros(-1).ToString(), "-0.000001");
  EXPECT_EQ(Money::FromMicros(std::numeric_limits<std::int64_t>::min()).ToString(), "-9223372036854.775808");
}

TEST(MoneyTest, ToStringRoundTripsThroughParse) {
  for (std::int64_t micros : {0LL, 1LL, -1LL, 10LL, 999'999LL, 1'000'000LL, -12'345'678LL, 9'223'372'036'854'775'807LL}) {
    EXPECT_EQ(Money::Parse(Money::FromMicros(micros).ToString())->micros(), micros);
  }
}

TEST(MoneyTest, ArithmeticAndOrdering) {
  Money a = Money::FromMicros(1'500'000);
  Money b = Money::FromMicros(250'000);
  EXPECT_EQ((a + b).micros(), 1'750'000);
  EXPECT_EQ((a - b).micros(), 1'250'000);
  EXPECT_EQ((-a).micros(), -1'500'000);
  a += b;
  EXPECT_EQ(a.micros(), 1'750'000);
  a -= b;
  EXPECT_EQ(a.micros(), 1'500'000);
  EXPECT_LT(b, a);
  EXPECT_EQ(a, Money::FromMicros(1'500'000));
  EXPECT_DOUBLE_EQ(a.ToDouble(), 1.5);
}

TEST(FixedPointTest, OtherScales) {
  EXPECT_EQ(*ParseFixedPoint("0.85", 2, 2), 85);
  EXPECT_EQ(*ParseFixedPoint("1", 2, 2), 100);
  EXPECT_FALSE(ParseFixedPoint("0.855", 2, 2));
  EXPECT_EQ(FormatFixedPoint(85, 2, 2), "0.85");
  EXPECT_EQ(FormatFixedPoint(100, 2, 2), "1.00");
  EXPECT_EQ(FormatFixedPoint(5, 2, 0), "0.05");
  EXPECT_EQ(FormatFixedPoint(500, 2, 0), "5");
  EXPECT_EQ(ShortestDouble(0.1), "0.1");
  EXPECT_EQ(ShortestDouble(1e-05), "1e-05");
}

}  // namespace
}  // namespace tally::core
