// CSV backfill files (RFC 4180) into JSON items for the same validation as
// the HTTP API.
//
// The first row names the fields (the table's column names). A cell becomes:
// absent when empty; a JSON number for numeric columns (token counts,
// latencies, money, scores, values; "time" when it is all digits, i.e. epoch
// seconds or milliseconds); a parsed JSON object for "metadata"; a string
// otherwise. Quoted cells may hold commas, quotes ("") and newlines.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tally::ingest {

core::Result<std::vector<boost::json::value>> ParseCsv(std::string_view text);

}  // namespace tally::ingest
