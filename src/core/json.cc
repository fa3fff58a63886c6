#include "core/json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tally::core {

Result<boost::json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (ec) {
    return std::unexpected(Error::InvalidArgument(fmt::format("invalid JSON: {}", ec.message())));
  }
  return v;
}

const char* JsonTypeName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "unknown";
}

std::string JsonExcerpt(const boost::json::value& v, size_t max_len) {
  std::string s = boost::json::serialize(v);
  if (s.size() > max_len) {
    s.resize(max_len);
    s += "...";
  }
  return s;
}

}  // namespace tally::core
