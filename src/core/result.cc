#include "core/result.h"

namespace tally::core {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::ToString() const {
  std::string out = ErrorCodeName(code_);
  out += ": ";
  out += message_;
  for (const ErrorDetail& d : details_) {
    out += "\n  ";
    if (d.index >= 0) out += "[" + std::to_string(d.index) + "] ";
    if (!d.field.empty()) out += d.field + ": ";
    out += d.message;
    if (!d.value.empty()) out += " (got " + d.value + ")";
  }
  return out;
}

}  // namespace tally::core
