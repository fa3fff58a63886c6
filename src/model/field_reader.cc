#include "model/field_reader.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstring>

#include "core/ids.h"
#include "core/json.h"

namespace tally::model::internal {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

std::int64_t Pow10(int n) {
  std::int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

}  // namespace

FieldReader::FieldReader(std::span<const std::string_view> names, std::string_view what,
                         std::vector<core::ErrorDetail>* details, std::int64_t index)
    : names_(names), what_(what), details_(details), index_(index) {}

// Hot: runs for every member of every ingested event. The search starts after
// the previous match (senders mostly keep one field order) and checks length
// and first byte before calling memcmp.
void FieldReader::Gather(const json::object& obj) {
  const size_t n = names_.size();
  size_t hint = 0;
  for (const json::key_value_pair& member : obj) {
    std::string_view key = member.key();
    size_t found = n;
    for (size_t step = 0; step < n; ++step) {
      size_t i = hint + step < n ? hint + step : hint + step - n;
      std::string_view name = names_[i];
      if (name.size() == key.size() && !key.empty() && name[0] == key[0] &&
          std::memcmp(name.data(), key.data(), key.size()) == 0) {
        found = i;
        break;
      }
    }
    if (found < n) {
      slots_[found] = &member.value();
      hint = found + 1 < n ? found + 1 : 0;
      continue;
    }
    Problem(key, &member.value(),
            fmt::format("unknown field; {} fields are: {}", what_, fmt::join(names_, ", ")));
  }
}

const json::value* FieldReader::Optional(int i) const {
  const json::value* v = slots_[i];
  return v == nullptr || v->is_null() ? nullptr : v;
}

const json::value* FieldReader::Required(int i) {
  const json::value* v = Optional(i);
  if (v == nullptr) Problem(i, slots_[i], "is required");
  return v;
}

void FieldReader::Problem(int i, const json::value* v, std::string message) {
  Problem(names_[i], v, std::move(message));
}

void FieldReader::Problem(std::string_view field, const json::value* v, std::string message) {
  ++problems_;
  details_->push_back(core::ErrorDetail{index_, std::string(field), v ? core::JsonExcerpt(*v) : std::string(),
                                        std::move(message)});
}

bool FieldReader::WrongType(int i, const json::value& v, std::string_view expected) {
  Problem(i, &v, fmt::format("must be {}, got {}", expected, core::JsonTypeName(v)));
  return false;
}

bool FieldReader::String(int i, const json::value& v, size_t max_len, std::string* out) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType(i, v, "a string");
  if (s->empty() || s->size() > max_len) {
    Problem(i, &v, fmt::format("must be 1 to {} characters long", max_len));
    return false;
  }
  out->assign(s->data(), s->size());
  return true;
}

bool FieldReader::Slug(int i, const json::value& v, std::string* out) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType(i, v, "a string");
  if (!core::IsSlug(View(*s))) {
    Problem(i, &v,
            "must be a lowercase slug: a letter or digit, then up to 63 of a-z 0-9 . _ - (like 'write-content')");
    return false;
  }
  out->assign(s->data(), s->size());
  return true;
}

bool FieldReader::Uuid(int i, const json::value& v, std::string* out) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType(i, v, "a UUID string");
  if (!core::IsUuid(View(*s))) {
    Problem(i, &v, "must be a UUID like 0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    return false;
  }
  *out = core::LowerAscii(View(*s));
  return true;
}

bool FieldReader::EventId(int i, const json::value& v, std::string* out) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType(i, v, "a string");
  bool printable = !s->empty() && s->size() <= 128;
  for (char c : *s) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable) {
    Problem(i, &v, "must be 1 to 128 printable ASCII characters");
    return false;
  }
  out->assign(s->data(), s->size());
  return true;
}

bool FieldReader::Count(int i, const json::value& v, std::int64_t* out) {
  std::int64_t n;
  if (const std::int64_t* p = v.if_int64()) {
    n = *p;
  } else if (v.is_uint64()) {
    n = kMaxCount + 1;  // beyond int64: out of range below
  } else {
    return WrongType(i, v, "a non-negative integer");
  }
  if (n < 0 || n > kMaxCount) {
    Problem(i, &v, fmt::format("must be an integer from 0 to {}", kMaxCount));
    return false;
  }
  *out = n;
  return true;
}

bool FieldReader::FixedPoint(int i, const json::value& v, int scale, int max_decimals, std::int64_t* out) {
  if (const std::int64_t* p = v.if_int64()) {
    if (__builtin_mul_overflow(*p, Pow10(scale), out)) {
      Problem(i, &v, "is out of range");
      return false;
    }
    return true;
  }
  core::Result<std::int64_t> units = std::unexpected(core::Error::InvalidArgument(""));
  if (const json::string* s = v.if_string()) {
    units = core::ParseFixedPoint(View(*s), scale, max_decimals);
  } else if (const double* d = v.if_double()) {
    if (!std::isfinite(*d)) {
      Problem(i, &v, "must be a finite number");
      return false;
    }
    // Shortest round-trip text, as core::ShortestDouble, without a heap string.
    char buf[64];
    auto r = fmt::format_to_n(buf, sizeof(buf), "{}", *d);
    units = core::ParseFixedPoint(std::string_view(buf, r.out - buf), scale, max_decimals);
  } else if (v.is_uint64()) {
    Problem(i, &v, "is out of range");
    return false;
  } else {
    return WrongType(i, v, "a number or a decimal string");
  }
  if (!units) {
    Problem(i, &v, units.error().message());
    return false;
  }
  *out = *units;
  return true;
}

bool FieldReader::Amount(int i, const json::value& v, const MoneyRule& rule, core::Money* out) {
  std::int64_t micros;
  if (!FixedPoint(i, v, 6, rule.max_decimals, &micros)) return false;
  if (micros < 0 && !rule.allow_negative) {
    Problem(i, &v, "must not be negative");
    return false;
  }
  const std::int64_t limit = rule.limit_units * core::Money::kMicrosPerUnit;
  if (micros <= -limit || micros >= limit) {
    Problem(i, &v, fmt::format("must be less than {} in magnitude", rule.limit_units));
    return false;
  }
  *out = core::Money::FromMicros(micros);
  return true;
}

bool FieldReader::Centi(int i, const json::value& v, std::int64_t lo, std::int64_t hi, std::int64_t* out) {
  std::int64_t centi;
  if (!FixedPoint(i, v, 2, 2, &centi)) return false;
  if (centi < lo || centi > hi) {
    Problem(i, &v, fmt::format("must be from {} to {}", core::FormatFixedPoint(lo, 2, 2),
                               core::FormatFixedPoint(hi, 2, 2)));
    return false;
  }
  *out = centi;
  return true;
}

bool FieldReader::Time(int i, const json::value& v, core::Timestamp* out) {
  core::Result<core::Timestamp> t = std::unexpected(core::Error::InvalidArgument(""));
  if (const json::string* s = v.if_string()) {
    t = core::ParseRfc3339(View(*s));
  } else if (const std::int64_t* n = v.if_int64()) {
    // Guarded here: FromEpochInteger scales before its own range check.
    if (*n < 0 || *n >= 100'000'000'000'000LL) {
      Problem(i, &v, "epoch time is out of range (expected seconds or milliseconds since 1970)");
      return false;
    }
    t = core::FromEpochInteger(*n);
  } else if (const double* d = v.if_double()) {
    t = core::FromEpochNumber(*d);
  } else if (v.is_uint64()) {
    Problem(i, &v, "epoch time is out of range (expected seconds or milliseconds since 1970)");
    return false;
  } else {
    return WrongType(i, v, "an RFC 3339 string or epoch seconds");
  }
  if (!t) {
    Problem(i, &v, t.error().message());
    return false;
  }
  *out = *t;
  return true;
}

bool FieldReader::Object(int i, const json::value& v, std::string* out) {
  if (!v.is_object()) return WrongType(i, v, "an object");
  *out = json::serialize(v);
  return true;
}

}  // namespace tally::model::internal
