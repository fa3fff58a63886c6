// Request bodies of the ingest API into JSON items.
//
// Accepted: one JSON object, a JSON array of objects (application/json), or
// NDJSON (application/x-ndjson: one JSON value per line, blank lines
// skipped). Errors name the line (NDJSON) or the byte offset of bad JSON.
// Item types are not checked here: validation reports a non-object item by
// its index with the others.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tally::ingest {

enum class BodyFormat { kJson, kNdjson };

// From a Content-Type header value ("application/x-ndjson; charset=utf-8").
// Anything that is not NDJSON is read as JSON.
BodyFormat BodyFormatFromContentType(std::string_view content_type);

core::Result<std::vector<boost::json::value>> ParseBody(std::string_view body, BodyFormat format);

}  // namespace tally::ingest
