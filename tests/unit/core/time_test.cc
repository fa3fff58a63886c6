// Timestamps: RFC 3339 and epoch input, UTC formatting, flooring, the clock.
#include "core/time.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/simulated_clock.h"

namespace tally::core {
namespace {

constexpr std::int64_t kMar1Noon = 1'772'366'400'000'000;  // 2026-03-01T12:00:00Z in micros

std::int64_t Us(std::string_view text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t) << text << ": " << t.error().ToString();
  return t ? ToMicros(*t) : -1;
}

TEST(ParseRfc3339Test, ReadsUtcAndOffsets) {
  EXPECT_EQ(Us("2026-03-01T12:00:00Z"), kMar1Noon);
  EXPECT_EQ(Us("2026-03-01t12:00:00z"), kMar1Noon);
  EXPECT_EQ(Us("2026-03-01 12:00:00Z"), kMar1Noon);
  EXPECT_EQ(Us("2026-03-01T14:00:00+02:00"), kMar1Noon);
  EXPECT_EQ(Us("2026-03-01T06:30:00-05:30"), kMar1Noon);
  EXPECT_EQ(Us("2026-03-02T00:00:00+12:00"), kMar1Noon);
  EXPECT_EQ(Us("1970-01-01T00:00:00Z"), 0);
}

TEST(ParseRfc3339Test, KeepsFractionsToTheMicrosecond) {
  EXPECT_EQ(Us("2026-03-01T12:00:00.5Z"), kMar1Noon + 500'000);
  EXPECT_EQ(Us("2026-03-01T12:00:00.123456Z"), kMar1Noon + 123'456);
  EXPECT_EQ(Us("2026-03-01T12:00:00.123456789Z"), kMar1Noon + 123'456);  // truncated
}

TEST(ParseRfc3339Test, ClampsALeapSecond) { EXPECT_EQ(Us("2016-12-31T23:59:60Z"), Us("2016-12-31T23:59:59Z")); }

TEST(ParseRfc3339Test, RejectsAmbiguousOrMalformedTimes) {
  for (const char* bad : {"2026-03-01T12:00:00", "2026-03-01", "", "2026-02-30T12:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-03-01T24:00:00Z", "2026-03-01T12:60:00Z", "2026-03-01T12:00:00+2:00",
                          "2026-03-01T12:00:00Zjunk", "2026-03-01T12:00:00.Z", "2026/03/01T12:00:00Z",
                          "yesterday", "2026-03-01T12:00:00 UTC"}) {
    auto t = ParseRfc3339(bad);
    ASSERT_FALSE(t) << "accepted '" << bad << "'";
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message().find(std::string("'") + bad + "'"), std::string::npos);
  }
  EXPECT_NE(ParseRfc3339("2026-03-01T12:00:00").error().message().find("missing zone"), std::string::npos);
}

TEST(EpochTest, SecondsBelowOneHundredBillionMillisecondsAbove) {
  EXPECT_EQ(ToMicros(*FromEpochInteger(1'772'366'400)), kMar1Noon);
  EXPECT_EQ(ToMicros(*FromEpochInteger(1'772'366'400'123)), kMar1Noon + 123'000);
  EXPECT_EQ(ToMicros(*FromEpochInteger(0)), 0);
  EXPECT_EQ(ToMicros(*FromEpochInteger(99'999'999'999)), 99'999'999'999'000'000);  // year 5138, seconds
  EXPECT_EQ(ToMicros(*FromEpochInteger(100'000'000'000)), 100'000'000'000'000);     // 1973, milliseconds
  EXPECT_FALSE(FromEpochInteger(-1));
  EXPECT_FALSE(FromEpochInteger(100'000'000'000'000));

  EXPECT_EQ(ToMicros(*FromEpochNumber(1'772'366'400.25)), kMar1Noon + 250'000);
  EXPECT_EQ(ToMicros(*FromEpochNumber(1'772'366'400'123.0)), kMar1Noon + 123'000);
  EXPECT_FALSE(FromEpochNumber(-5.0));
  EXPECT_FALSE(FromEpochNumber(std::nan("")));
  EXPECT_FALSE(FromEpochNumber(1e300));
}

TEST(FormatRfc3339Test, WritesUtcWithTrimmedFraction) {
  EXPECT_EQ(FormatRfc3339(FromMicros(kMar1Noon)), "2026-03-01T12:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromMicros(kMar1Noon + 120'000)), "2026-03-01T12:00:00.12Z");
  EXPECT_EQ(FormatRfc3339(FromMicros(kMar1Noon + 1)), "2026-03-01T12:00:00.000001Z");
  EXPECT_EQ(FormatRfc3339(FromMicros(0)), "1970-01-01T00:00:00Z");
  for (std::int64_t us : {kMar1Noon, kMar1Noon + 1, kMar1Noon + 999'999, std::int64_t{951'782'400'000'000}}) {
    EXPECT_EQ(ToMicros(*ParseRfc3339(FormatRfc3339(FromMicros(us)))), us);
  }
}

TEST(FloorTest, DayAndHourInUtc) {
  Timestamp t = *ParseRfc3339("2026-03-01T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(FloorToDay(t)), "2026-03-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FloorToHour(t)), "2026-03-01T23:00:00Z");
  // A +02:00 time just after local midnight belongs to the previous UTC day.
  EXPECT_EQ(FormatRfc3339(FloorToDay(*ParseRfc3339("2026-03-02T00:30:00+02:00"))), "2026-03-01T00:00:00Z");
}

TEST(ClockTest, SimulatedClockMovesOnlyWhenTold) {
  testing::SimulatedClock clock(FromMicros(kMar1Noon));
  EXPECT_EQ(ToMicros(clock.Now()), kMar1Noon);
  clock.Advance(std::chrono::minutes(59));
  EXPECT_EQ(FormatRfc3339(clock.Now()), "2026-03-01T12:59:00Z");
  clock.Set(FromMicros(0));
  EXPECT_EQ(ToMicros(clock.Now()), 0);
}

}  // namespace
}  // namespace tally::core
