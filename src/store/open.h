// store::Open: the Store a location names. "postgres://..." or
// "postgresql://..." (a libpq URI) opens PostgresStore; anything else is the
// data folder of the embedded SqliteStore. Writable stores are migrated.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace tally::store {

bool IsPostgresUrl(const std::string& location);

// The location as it may be logged or printed: the password of a
// postgres:// URL ("user:pw@" -> "user:***@", "?password=pw" ->
// "?password=***") or of a key=value conninfo ("password=pw") is replaced by
// "***". Anything else (a data folder) comes back unchanged.
std::string RedactLocation(const std::string& location);

Result<std::unique_ptr<Store>> Open(const std::string& location, bool read_only = false);

}  // namespace tally::store
