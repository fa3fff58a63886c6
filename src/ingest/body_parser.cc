#include "ingest/body_parser.h"

#include <fmt/format.h>

#include <boost/json/monotonic_resource.hpp>

#include "core/ids.h"
#include <boost/json/parser.hpp>

namespace tally::ingest {

BodyFormat BodyFormatFromContentType(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string media_text = core::LowerAscii(content_type.substr(0, semi));
  std::string_view media = media_text;
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  if (media == "application/x-ndjson" || media == "application/jsonl" || media == "application/ndjson" ||
      media == "application/jsonlines") {
    return BodyFormat::kNdjson;
  }
  return BodyFormat::kJson;
}

core::Result<std::vector<boost::json::value>> ParseBody(std::string_view body, BodyFormat format) {
  std::vector<boost::json::value> items;
  // One arena for the whole body: every item is freed together when the
  // request is done, instead of one malloc/free per string and object.
  boost::json::storage_ptr arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  boost::json::parser parser;
  parser.reset(arena);  // the storage of the values it produces
  boost::system::error_code ec;
  if (format == BodyFormat::kJson) {
    parser.write(body.data(), body.size(), ec);
    if (ec) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("body is not valid JSON: {}", ec.message())));
    }
    boost::json::value v = parser.release();
    if (v.is_array()) {
      boost::json::array& arr = v.as_array();
      items.reserve(arr.size());
      for (auto& item : arr) items.push_back(std::move(item));
    } else {
      items.push_back(std::move(v));
    }
  } else {
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view line = body.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      parser.reset(arena);
      parser.write(line.data(), line.size(), ec);
        if (ec) {
        return std::unexpected(core::Error::InvalidArgument(
            fmt::format("NDJSON line {} is not valid JSON: {}", line_no, ec.message())));
      }
      items.push_back(parser.release());
    }
  }
  if (items.empty()) return std::unexpected(core::Error::InvalidArgument("body holds no events"));
  return items;
}

}  // namespace tally::ingest
