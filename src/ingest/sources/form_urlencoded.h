// application/x-www-form-urlencoded bodies (Gumroad pings; GitHub webhooks
// whose content type is set to form): key=value pairs joined by '&', with
// %XX escapes and '+' for a space decoded. A malformed escape is kept as
// text rather than refused: the body was already authenticated and a field
// that does not decode to what the source expects fails its own checks.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tally::ingest {

// key=value&... decoded. Later duplicates win; a key without '=' maps to "".
std::map<std::string, std::string> ParseFormUrlEncoded(std::string_view body);

// True when a Content-Type header value names form encoding, whatever its
// parameters and case ("application/x-www-form-urlencoded; charset=utf-8").
bool IsFormUrlEncoded(std::string_view content_type);

}  // namespace tally::ingest
