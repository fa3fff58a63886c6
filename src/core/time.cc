#include "core/time.h"

#include <fmt/format.h>

#include <cmath>

#include "core/clock.h"

namespace tally::core {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Error BadTime(std::string_view text, std::string_view why) {
  return Error::InvalidArgument(fmt::format("'{}' is not an RFC 3339 timestamp: {}", text, why));
}

bool ReadDigits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<Timestamp> ParseRfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day)) {
    return std::unexpected(BadTime(s, "expected YYYY-MM-DD"));
  }
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
    return std::unexpected(BadTime(s, "expected 'T' between date and time"));
  }
  if (!ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return std::unexpected(BadTime(s, "expected hh:mm:ss"));
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return std::unexpected(BadTime(s, "no such date"));
  if (hour > 23 || minute > 59 || second > 60) return std::unexpected(BadTime(s, "time out of range"));
  if (second == 60) second = 59;  // leap second: clamp, UTC has no 60th second here
  size_t pos = 19;
  std::int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) {
        frac_us += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start) return std::unexpected(BadTime(s, "empty fraction"));
  }
  if (pos == s.size()) return std::unexpected(BadTime(s, "missing zone (add 'Z' or an offset like +00:00)"));
  int offset_minutes = 0;
  char z = s[pos];
  if (z == 'Z' || z == 'z') {
    ++pos;
  } else if (z == '+' || z == '-') {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::unexpected(BadTime(s, "bad zone offset"));
    }
    offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::unexpected(BadTime(s, "bad zone"));
  }
  if (pos != s.size()) return std::unexpected(BadTime(s, "trailing characters"));
  auto tp = std::chrono::sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) -
            minutes(offset_minutes);
  if (tp.time_since_epoch().count() < 0) {  // same rule as epoch numbers: no event predates 1970
    return std::unexpected(BadTime(s, "before 1970-01-01T00:00:00Z"));
  }
  return Timestamp(std::chrono::duration_cast<microseconds>(tp.time_since_epoch()) +
                   microseconds(frac_us));
}

Result<Timestamp> FromEpochNumber(double value) {
  if (!std::isfinite(value)) {
    return std::unexpected(Error::InvalidArgument(fmt::format("'{}' is not a finite epoch time", value)));
  }
  double us = std::fabs(value) < 1e11 ? value * 1e6 : value * 1e3;
  if (us < 0 || us > 4.1e17) {  // before 1970 or after ~year 14000: a unit mix-up
    return std::unexpected(Error::InvalidArgument(fmt::format("epoch time {} is out of range", value)));
  }
  return Timestamp(microseconds(static_cast<std::int64_t>(std::llround(us))));
}

Result<Timestamp> FromEpochInteger(std::int64_t value) {
  if (value < 0) {
    return std::unexpected(Error::InvalidArgument(fmt::format("epoch time {} is out of range", value)));
  }
  if (value >= 100'000'000'000'000LL) {  // checked before scaling, which would overflow
    return std::unexpected(Error::InvalidArgument(fmt::format("epoch time {} is out of range", value)));
  }
  std::int64_t us = value < 100'000'000'000LL ? value * 1'000'000 : value * 1'000;
  return Timestamp(microseconds(us));
}

std::string FormatRfc3339(Timestamp t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day ymd{day};
  auto rest = t - day;
  auto h = std::chrono::duration_cast<hours>(rest);
  rest -= h;
  auto m = std::chrono::duration_cast<minutes>(rest);
  rest -= m;
  auto sec = std::chrono::duration_cast<seconds>(rest);
  rest -= sec;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                h.count(), m.count(), sec.count());
  if (rest.count() != 0) {
    std::string frac = fmt::format("{:06}", rest.count());
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  out += "Z";
  return out;
}

Timestamp FloorToDay(Timestamp t) { return std::chrono::floor<days>(t); }
Timestamp FloorToHour(Timestamp t) { return std::chrono::floor<hours>(t); }

Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
}

SystemClock& SystemClock::Instance() {
  static auto* clock = new SystemClock();
  return *clock;
}

}  // namespace tally::core
