#include "ingest/csv_reader.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <boost/json/object.hpp>

#include "core/json.h"

namespace tally::ingest {
namespace {

constexpr std::array<std::string_view, 6> kIntegerColumns = {
    "input_tokens", "output_tokens", "cached_tokens", "latency_ms", "duration_ms", "steps_count"};

bool IsIntegerColumn(std::string_view name) {
  for (std::string_view c : kIntegerColumns) {
    if (!c.empty() && c == name) return true;
  }
  return false;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits CSV text into rows of cells. Returns the 1-based line of an
// unterminated quote as an error.
core::Result<std::vector<std::vector<std::string>>> SplitRows(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  bool cell_started = false;
  size_t line = 1;
  size_t quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"' && !cell_started) {
      quoted = true;
      cell_started = true;
      quote_line = line;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
    } else {
      cell += c;
      cell_started = true;
    }
  }
  if (quoted) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("CSV quote opened on line {} is never closed", quote_line)));
  }
  if (cell_started || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

core::Result<std::vector<boost::json::value>> ParseCsv(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM from spreadsheet exports
  auto rows = TALLY_TRY(SplitRows(text));
  if (rows.empty()) return std::unexpected(core::Error::InvalidArgument("CSV file is empty"));
  const std::vector<std::string>& header = rows[0];
  std::vector<boost::json::value> items;
  items.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() != header.size()) {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "CSV row {} has {} cells but the header has {}", r + 1, row.size(), header.size())));
    }
    boost::json::object obj;
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string& name = header[c];
      const std::string& cell = row[c];
      if (cell.empty()) continue;
      if (name == "metadata") {
        auto parsed = core::ParseJson(cell);
        if (!parsed) {
          return std::unexpected(core::Error::InvalidArgument(
              fmt::format("CSV row {}: metadata is not JSON: {}", r + 1, parsed.error().message())));
        }
        obj[name] = std::move(*parsed);
      } else if ((IsIntegerColumn(name) || name == "time") && AllDigits(cell) && cell.size() < 19) {
        obj[name] = std::stoll(cell);
      } else if (name == "quality_score" || name == "value") {
        // Scores and growth values have at most 2 decimals: a double holds
        // them exactly enough for validation's shortest-text check.
        double d = 0;
        auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), d, std::chars_format::fixed);
        if (ec != std::errc() || end != cell.data() + cell.size()) {
          obj[name] = cell;  // let validation name the bad value
        } else {
          obj[name] = d;
        }
      } else {
        // Money, scores and values stay strings: validation parses decimal
        // strings exactly, which a detour through double would not.
        obj[name] = cell;
      }
    }
    items.emplace_back(std::move(obj));
  }
  return items;
}

}  // namespace tally::ingest
