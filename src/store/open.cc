#include "store/open.h"

#include <algorithm>
#include <string_view>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace tally::store {

bool IsPostgresUrl(const std::string& location) {
  return location.starts_with("postgres://") || location.starts_with("postgresql://");
}

namespace {

// Replaces every value of "password=" (a URI query parameter or a conninfo
// keyword) up to the next separator in seps.
void RedactPasswordParams(std::string* s, std::string_view seps) {
  size_t pos = 0;
  while ((pos = s->find("password", pos)) != std::string::npos) {
    size_t eq = pos + 8;
    while (eq < s->size() && (*s)[eq] == ' ') ++eq;
    const bool starts_key = pos == 0 || std::string_view("?& \t").find((*s)[pos - 1]) != std::string_view::npos;
    if (!starts_key || eq >= s->size() || (*s)[eq] != '=') {
      pos += 8;
      continue;
    }
    size_t begin = eq + 1;
    while (begin < s->size() && (*s)[begin] == ' ') ++begin;
    size_t end = begin;
    if (begin < s->size() && (*s)[begin] == '\'') {  // conninfo quoted value
      end = begin + 1;
      while (end < s->size() && (*s)[end] != '\'') end += (*s)[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, s->size());
    } else {
      while (end < s->size() && seps.find((*s)[end]) == std::string_view::npos) ++end;
    }
    s->replace(begin, end - begin, "***");
    pos = begin + 3;
  }
}

}  // namespace

std::string RedactLocation(const std::string& location) {
  std::string out = location;
  if (IsPostgresUrl(location)) {
    const size_t authority = out.find("://") + 3;
    size_t stop = out.find_first_of("/?#", authority);
    if (stop == std::string::npos) stop = out.size();
    const size_t at = out.rfind('@', stop);
    if (at != std::string::npos && at >= authority) {
      const size_t colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    RedactPasswordParams(&out, "&#");
    return out;
  }
  if (location.find('=') != std::string::npos) RedactPasswordParams(&out, " \t");
  return out;
}

Result<std::unique_ptr<Store>> Open(const std::string& location, bool read_only) {
  if (IsPostgresUrl(location)) {
    PostgresStore::Options options;
    options.read_only = read_only;
    auto opened = PostgresStore::Open(location, options);
    if (!opened) return std::unexpected(opened.error());
    return std::unique_ptr<Store>(std::move(*opened));
  }
  SqliteStore::OpenOptions options;
  options.read_only = read_only;
  auto opened = SqliteStore::Open(location, options);
  if (!opened) return std::unexpected(opened.error());
  return std::unique_ptr<Store>(std::move(*opened));
}

}  // namespace tally::store
