// Errors as values: Result<T> = std::expected<T, Error>.
//
// Every fallible call across a module boundary returns Result<T> (or Status for
// no value). An Error carries a small code (mapped to HTTP status by the
// server), a message that names what was wrong and with which value, and an
// optional list of per-item details (validation of a batch lists every
// problem by index and field). A duplicate event or a denied budget is a
// normal result, never an Error.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace tally::core {

enum class ErrorCode {
  kInvalidArgument,   // bad input from the caller: 400
  kUnauthenticated,   // no or unknown credentials: 401
  kPermissionDenied,  // credentials lack a scope: 403
  kNotFound,          // 404
  kConflict,          // 409
  kTooLarge,          // payload over a configured limit: 413
  kUnavailable,       // transient; retry later (queue full, database down): 503
  kCorruption,        // stored data is not what we wrote
  kInternal,          // a bug or an unexpected failure of a dependency
};

const char* ErrorCodeName(ErrorCode code);

// One problem in a multi-item input. index is the item's position in its
// batch (-1 when the problem is not about one item).
struct ErrorDetail {
  std::int64_t index = -1;
  std::string field;
  std::string value;
  std::string message;
};

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message, std::vector<ErrorDetail> details = {})
      : code_(code), message_(std::move(message)), details_(std::move(details)) {}

  static Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
  static Error PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error TooLarge(std::string m) { return {ErrorCode::kTooLarge, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error Corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<ErrorDetail>& details() const { return details_; }
  std::vector<ErrorDetail>& mutable_details() { return details_; }

  // "invalid_argument: <message>" plus one line per detail.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<ErrorDetail> details_;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline Status OkStatus() { return {}; }

}  // namespace tally::core

// Evaluates a Result expression; on error returns the error from the enclosing
// function, otherwise yields the value (GNU statement expression).
#define TALLY_TRY(expr)                                        \
  ({                                                           \
    auto&& tally_try_result_ = (expr);                         \
    if (!tally_try_result_) {                                  \
      return std::unexpected(std::move(tally_try_result_).error()); \
    }                                                          \
    std::move(tally_try_result_).value();                      \
  })

// For Status-returning expressions whose value is not needed.
#define TALLY_RETURN_IF_ERROR(expr)                            \
  do {                                                         \
    auto&& tally_status_ = (expr);                             \
    if (!tally_status_) {                                      \
      return std::unexpected(std::move(tally_status_).error()); \
    }                                                          \
  } while (0)
