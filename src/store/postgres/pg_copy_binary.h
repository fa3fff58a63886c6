// COPY ... FROM STDIN (FORMAT binary) encoding for the PostgreSQL store's hot
// path: rows go straight into the raw tables in the server's own binary
// representations (timestamptz as micros since 2000-01-01, NUMERIC as
// base-10000 digits, UUID as 16 bytes), so the server runs no text input
// functions and no INSERT ... SELECT conversion. The server still enforces
// every constraint (NOT NULL, CHECK, typmods, UNIQUE) and validates text
// encoding; what only the text path would have refused (a malformed UUID, an
// integer beyond INTEGER) the caller checks with Uuid()'s / FitsInt4's answer.
//
// Layout (PostgreSQL docs, "Binary Format" of COPY): an 11-byte signature,
// flags and header extension length; per row an int16 field count then per
// field an int32 length (-1 = NULL) and the bytes; an int16 -1 trailer. All
// integers big-endian.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::store::pg {

class BinaryCopy {
 public:
  BinaryCopy();

  // Starts a row of `fields` fields; each field is one call below.
  void Row(std::int16_t fields);
  void Null();
  void Int4(std::int32_t v);
  void Int8(std::int64_t v);
  void Text(std::string_view v);
  // TIMESTAMPTZ from micros since the Unix epoch.
  void Timestamp(std::int64_t unix_micros);
  // NUMERIC whose value is scaled / 10^scale (0 <= scale <= 8), e.g.
  // micro-USD with scale 6.
  void Numeric(std::int64_t scaled, int scale);
  // JSONB from JSON text (the server parses and checks it).
  void Jsonb(std::string_view json);
  // UUID from its text form (hyphens optional, braces allowed, any case, as
  // PostgreSQL's uuid_in accepts). False, writing nothing, when not a UUID.
  [[nodiscard]] bool Uuid(std::string_view text);

  std::int64_t rows() const { return rows_; }
  // The COPY data with its trailer; the writer is spent afterwards.
  std::string Finish();

 private:
  void Be16(std::uint16_t v);
  void Be32(std::uint32_t v);
  void Be64(std::uint64_t v);

  std::string buf_;
  std::int64_t rows_ = 0;
};

inline bool FitsInt4(std::int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace tally::store::pg
