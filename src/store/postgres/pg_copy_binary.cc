#include "store/postgres/pg_copy_binary.h"

#include <array>

namespace tally::store::pg {
namespace {

// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix micros.
constexpr std::int64_t kPgEpochMicros = 946'684'800'000'000;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BinaryCopy::BinaryCopy() {
  buf_.reserve(1 << 16);
  buf_.append("PGCOPY\n\377\r\n\0", 11);
  Be32(0);  // flags: no OIDs
  Be32(0);  // header extension length
}

void BinaryCopy::Be16(std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  buf_.append(b, 2);
}

void BinaryCopy::Be32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  buf_.append(b, 4);
}

void BinaryCopy::Be64(std::uint64_t v) {
  Be32(static_cast<std::uint32_t>(v >> 32));
  Be32(static_cast<std::uint32_t>(v));
}

void BinaryCopy::Row(std::int16_t fields) {
  ++rows_;
  Be16(static_cast<std::uint16_t>(fields));
}

void BinaryCopy::Null() { Be32(0xFFFF'FFFFu); }

void BinaryCopy::Int4(std::int32_t v) {
  Be32(4);
  Be32(static_cast<std::uint32_t>(v));
}

void BinaryCopy::Int8(std::int64_t v) {
  Be32(8);
  Be64(static_cast<std::uint64_t>(v));
}

void BinaryCopy::Text(std::string_view v) {
  Be32(static_cast<std::uint32_t>(v.size()));
  buf_.append(v);
}

void BinaryCopy::Timestamp(std::int64_t unix_micros) { Int8(unix_micros - kPgEpochMicros); }

void BinaryCopy::Numeric(std::int64_t scaled, int scale) {
  // Base-10000 digits around the decimal point: the integer part's groups,
  // then the fraction padded to 8 decimal digits (two groups); leading and
  // trailing zero groups dropped, as the server stores them.
  static constexpr std::array<std::uint64_t, 9> kPow10 = {
      1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000};
  const bool negative = scaled < 0;
  const std::uint64_t abs = negative ? 0 - static_cast<std::uint64_t>(scaled)
                                     : static_cast<std::uint64_t>(scaled);
  std::uint64_t whole = abs / kPow10[scale];
  const std::uint64_t frac = (abs % kPow10[scale]) * kPow10[8 - scale];
  std::array<std::uint16_t, 8> digits{};  // int64 needs at most 5 + 2 groups
  int n = 0;
  std::array<std::uint16_t, 5> int_groups{};
  int ni = 0;
  while (whole > 0) {
    int_groups[ni++] = static_cast<std::uint16_t>(whole % 10'000);
    whole /= 10'000;
  }
  for (int g = ni - 1; g >= 0; --g) digits[n++] = int_groups[g];
  digits[n++] = static_cast<std::uint16_t>(frac / 10'000);
  digits[n++] = static_cast<std::uint16_t>(frac % 10'000);
  int weight = ni - 1;
  int first = 0;
  while (first < n && digits[first] == 0) {
    ++first;
    --weight;
  }
  while (n > first && digits[n - 1] == 0) --n;
  const int ndigits = n - first;
  if (ndigits == 0) weight = 0;
  Be32(static_cast<std::uint32_t>(8 + 2 * ndigits));
  Be16(static_cast<std::uint16_t>(ndigits));
  Be16(static_cast<std::uint16_t>(static_cast<std::int16_t>(weight)));
  Be16(negative && ndigits > 0 ? 0x4000 : 0x0000);
  Be16(static_cast<std::uint16_t>(scale));
  for (int i = first; i < n; ++i) Be16(digits[i]);
}

void BinaryCopy::Jsonb(std::string_view json) {
  Be32(static_cast<std::uint32_t>(json.size() + 1));
  buf_.push_back('\1');  // jsonb binary format version
  buf_.append(json);
}

bool BinaryCopy::Uuid(std::string_view text) {
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, text.size() - 2);
  }
  std::array<char, 16> bytes{};
  int nibbles = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    // A hyphen may follow any group of four hex digits (uuid_in's rule).
    if (text[i] == '-' && nibbles > 0 && nibbles % 4 == 0 && nibbles < 32 && i + 1 < text.size() &&
        text[i + 1] != '-') {
      continue;
    }
    const int h = HexValue(text[i]);
    if (h < 0 || nibbles >= 32) return false;
    bytes[nibbles / 2] = static_cast<char>(bytes[nibbles / 2] | (nibbles % 2 == 0 ? h << 4 : h));
    ++nibbles;
  }
  if (nibbles != 32) return false;
  Be32(16);
  buf_.append(bytes.data(), bytes.size());
  return true;
}

std::string BinaryCopy::Finish() {
  Be16(0xFFFF);
  return std::move(buf_);
}

}  // namespace tally::store::pg
