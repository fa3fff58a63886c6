// Small JSON helpers over Boost.JSON shared by every subsystem: parsing with
// errors as values, type names and short value excerpts for error messages.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tally::core {

// Parses one JSON text. The error names the byte offset and the reason.
Result<boost::json::value> ParseJson(std::string_view text);

// "string", "number", "object", ... for messages like "expected a string, got number".
const char* JsonTypeName(const boost::json::value& v);

// Serialized value, cut to max_len characters with "..." so a huge field does not flood an error.
std::string JsonExcerpt(const boost::json::value& v, size_t max_len = 80);

}  // namespace tally::core
