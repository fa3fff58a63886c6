// Thin RAII helpers over libpq for the PostgreSQL store: an owning connection,
// an owning result, statement execution with text parameters, COPY FROM STDIN,
// and the mapping of libpq / SQLSTATE failures to core::Error.
//
// Error mapping (ErrorFromResult / ErrorFromConn):
//  - connection lost or refused, SQLSTATE class 08, 57P01..57P03 (shutdown,
//    crash recovery), 53xxx (out of resources), 40001 / 40P01 (serialization,
//    deadlock) -> unavailable: retryable, HTTP 503.
//  - 23502 / 23514 (NOT NULL, CHECK), class 22 (bad data) -> invalid_argument.
//  - 23505 / 23503 (unique, foreign key) -> conflict.
//  - 25006 (write in a read-only transaction) -> invalid_argument.
//  - anything else -> internal.
// Thread-safety: a Conn is used by one thread at a time (the pool lends it).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tally::store::pg {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnHandle = std::unique_ptr<PGconn, ConnCloser>;

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultHandle = std::unique_ptr<PGresult, ResultCloser>;

// A NULL parameter is std::nullopt; everything else is sent as text.
using Param = std::optional<std::string>;

core::Error ErrorFromConn(PGconn* conn, std::string_view context);
// res may be null (libpq out of memory or connection lost).
core::Error ErrorFromResult(PGconn* conn, const PGresult* res, std::string_view context);
// The SQLSTATE of a failed result ("" when none).
std::string SqlState(const PGresult* res);

// Runs SQL (one or more statements, no parameters) that returns no rows.
core::Status Exec(PGconn* conn, std::string_view sql, std::string_view context);
// Runs one statement with text parameters ($1, $2, ...); returns the result
// (PGRES_TUPLES_OK or PGRES_COMMAND_OK) or the mapped error.
core::Result<ResultHandle> Run(PGconn* conn, std::string_view sql, const std::vector<Param>& params,
                               std::string_view context);
// COPY <target> FROM STDIN (text format) with the given data (rows already
// escaped, see AppendCopyText).
core::Status CopyIn(PGconn* conn, std::string_view copy_sql, std::string_view data,
                    std::string_view context);

// COPY text-format field escaping.
void AppendCopyText(std::string* out, std::string_view v);
inline void AppendCopyNull(std::string* out) { out->append("\\N"); }
void AppendCopyInt(std::string* out, std::int64_t v);

// Column readers over a result (text format).
inline bool IsNull(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }
inline std::string Text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}
std::int64_t Int(const PGresult* r, int row, int col);
std::optional<std::string> OptText(const PGresult* r, int row, int col);
std::optional<std::int64_t> OptInt(const PGresult* r, int row, int col);

}  // namespace tally::store::pg
