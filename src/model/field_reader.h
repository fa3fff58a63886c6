// FieldReader: typed reads of one JSON object's members, collecting every
// problem instead of stopping at the first. Internal to validation.
//
// A reader is bound to a table of field names; Gather() files each member of
// an object into the slot of its name in one pass (unknown names are
// problems), then the typed readers check a slot's value. Readers write their
// output only when they return true, and report every failure as an
// ErrorDetail {index, field, value excerpt, message}. JSON null counts as
// absent. No exceptions and no allocation on the happy path beyond the output
// strings themselves.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "core/time.h"

namespace tally::model::internal {

// How one money column is bounded: the seed's NUMERIC(p,s) gives the decimals
// and the magnitude (|amount| < 10^(p-s)).
struct MoneyRule {
  int max_decimals;
  std::int64_t limit_units;  // exclusive bound on |amount| in whole USD
  bool allow_negative;       // refunds and credits are negative amounts
};

// Seed INTEGER columns (tokens, latency, duration, steps) are 32-bit.
inline constexpr std::int64_t kMaxCount = 2'147'483'647;
// Free-text columns: long enough for any model or provider name.
inline constexpr size_t kMaxText = 256;

class FieldReader {
 public:
  static constexpr size_t kMaxFields = 16;

  // names: the table's fields (at most kMaxFields), outliving the reader.
  // Problems are appended to *details under `index` (-1: not a batch item).
  FieldReader(std::span<const std::string_view> names, std::string_view what,
              std::vector<core::ErrorDetail>* details, std::int64_t index);

  // Files obj's members by name; each unknown member is a problem.
  void Gather(const boost::json::object& obj);

  // Value of field i, or nullptr when absent or null.
  const boost::json::value* Optional(int i) const;
  // Same, recording "is required" when absent.
  const boost::json::value* Required(int i);
  // True when field i was given (null included: an explicit clear).
  bool Given(int i) const { return slots_[i] != nullptr; }

  // Non-empty string of at most max_len bytes.
  bool String(int i, const boost::json::value& v, size_t max_len, std::string* out);
  // Lowercase slug (core::IsSlug): open vocabularies and agent ids.
  bool Slug(int i, const boost::json::value& v, std::string* out);
  // UUID in either case, stored lowercase.
  bool Uuid(int i, const boost::json::value& v, std::string* out);
  // Idempotency key: 1..128 printable ASCII.
  bool EventId(int i, const boost::json::value& v, std::string* out);
  // Non-negative JSON integer <= kMaxCount (12.0 is the wrong type).
  bool Count(int i, const boost::json::value& v, std::int64_t* out);
  // JSON number or decimal string, exact, within rule.
  bool Amount(int i, const boost::json::value& v, const MoneyRule& rule, core::Money* out);
  // Hundredths (NUMERIC(p,2)) from a number or decimal string, in [lo, hi].
  bool Centi(int i, const boost::json::value& v, std::int64_t lo, std::int64_t hi, std::int64_t* out);
  // RFC 3339 string with zone, or epoch seconds / milliseconds.
  bool Time(int i, const boost::json::value& v, core::Timestamp* out);
  // A JSON object, kept as its serialized text.
  bool Object(int i, const boost::json::value& v, std::string* out);
  // One of a closed vocabulary; `allowed` lists the values for the message.
  template <typename E>
  bool Enum(int i, const boost::json::value& v, std::optional<E> (*parse)(std::string_view),
            std::string_view allowed, E* out) {
    const boost::json::string* s = v.if_string();
    if (s == nullptr) return WrongType(i, v, "a string");
    if (std::optional<E> e = parse(std::string_view(s->data(), s->size()))) {
      *out = *e;
      return true;
    }
    Problem(i, &v, "must be one of " + std::string(allowed));
    return false;
  }

  // Records a problem on field i (or a named field); v may be null.
  void Problem(int i, const boost::json::value* v, std::string message);
  void Problem(std::string_view field, const boost::json::value* v, std::string message);
  std::string_view name(int i) const { return names_[i]; }
  size_t problems() const { return problems_; }

 private:
  bool WrongType(int i, const boost::json::value& v, std::string_view expected);
  // Fixed-point units of 10^-scale from a number or decimal string.
  bool FixedPoint(int i, const boost::json::value& v, int scale, int max_decimals, std::int64_t* out);

  std::span<const std::string_view> names_;
  std::string_view what_;  // "llm_calls", "product": names the field list in messages
  std::vector<core::ErrorDetail>* details_;
  std::int64_t index_;
  size_t problems_ = 0;
  std::array<const boost::json::value*, kMaxFields> slots_{};
};

}  // namespace tally::model::internal
