// Lenient field access over provider JSON for the sources: providers add
// fields and send null for absent ones, so a missing or null field reads as
// empty and only the fields a source needs are checked (by the source).
#pragma once

#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::ingest::json_fields {

namespace json = boost::json;

inline const json::value* Get(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  const auto* found = v.as_object().if_contains(key);
  if (found == nullptr || found->is_null()) return nullptr;
  return found;
}

inline const json::value& Null() {
  static const json::value kNull;
  return kNull;
}

// The field, or JSON null.
inline const json::value& Field(const json::value& v, std::string_view key) {
  const auto* f = Get(v, key);
  return f != nullptr ? *f : Null();
}

// A string field; an expanded object's "id" (Stripe expands ids into
// objects on request); numbers as their text; else "".
inline std::string Str(const json::value& v, std::string_view key) {
  const auto* f = Get(v, key);
  if (f == nullptr) return {};
  if (f->is_string()) return std::string(f->as_string());
  if (f->is_int64()) return std::to_string(f->as_int64());
  if (f->is_uint64()) return std::to_string(f->as_uint64());
  if (f->is_object()) return Str(*f, "id");
  return {};
}

// An integer field (also an integral double or a decimal string); nullopt otherwise.
inline std::optional<std::int64_t> Int(const json::value& v, std::string_view key) {
  const auto* f = Get(v, key);
  if (f == nullptr) return std::nullopt;
  if (f->is_int64()) return f->as_int64();
  if (f->is_uint64() && f->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(f->as_uint64());
  }
  if (f->is_double()) {
    double d = f->as_double();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  if (f->is_string()) {
    std::string_view s = f->as_string();
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return out;
  }
  return std::nullopt;
}

inline bool Bool(const json::value& v, std::string_view key) {
  const auto* f = Get(v, key);
  if (f == nullptr) return false;
  if (f->is_bool()) return f->as_bool();
  if (f->is_string()) return f->as_string() == "true";
  return false;
}

}  // namespace tally::ingest::json_fields
