// User SQL (`tally sql`, the /sql API, ask) on PostgreSQL: one statement in a
// READ ONLY transaction with a statement_timeout, always rolled back; the
// extended protocol refuses a second statement; rows stream in single-row
// mode and the statement is cancelled once max_rows are read.
//
// Values: integers and booleans -> int64, float -> double, NUMERIC -> int64
// when integral else double, NULL -> null, everything else (text, uuid,
// timestamptz, jsonb) -> its text form.
//
// Privileges: the statement runs as the NOLOGIN role tally_sql_reader
// (SELECT on tally's schema only, pg_sql_reader.cc) when the database has it,
// so even a superuser store role cannot be made to call pg_read_file() and
// the like. Not a complete boundary when the store's own role is a superuser:
// the session user may switch roles again (set_config('role', ...) evaluated
// before a nested query), so give tally a role without superuser when Query
// is exposed to agents.
#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

constexpr std::string_view kReadOnlyMessage = "only read-only statements are allowed";

// Type OIDs of pg_type (stable across versions).
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

SqlValue Value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  const char* v = PQgetvalue(r, row, col);
  const int len = PQgetlength(r, row, col);
  switch (PQftype(r, col)) {
    case kBool:
      return std::int64_t{v[0] == 't' ? 1 : 0};
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return pg::Int(r, row, col);
    case kFloat4:
    case kFloat8:
      return std::strtod(v, nullptr);
    case kNumeric: {
      std::int64_t i = 0;
      auto [end, ec] = std::from_chars(v, v + len, i);
      if (ec == std::errc() && end == v + len) return i;
      return std::strtod(v, nullptr);
    }
    default:
      return std::string(v, static_cast<size_t>(len));
  }
}

core::Error QueryError(PGconn* conn, const PGresult* res, std::chrono::milliseconds limit) {
  std::string state = pg::SqlState(res);
  core::Error mapped = pg::ErrorFromResult(conn, res, "sql");
  if (mapped.code() == core::ErrorCode::kUnavailable) return mapped;
  if (state == "25006") return core::Error::InvalidArgument(std::string(kReadOnlyMessage));
  if (state == "57014") {
    return core::Error::InvalidArgument(
        fmt::format("sql: query stopped after {} ms (the limit for one query)", limit.count()));
  }
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  return core::Error::InvalidArgument(fmt::format("sql: {}", primary ? primary : "error"));
}

}  // namespace

Result<QueryResult> PostgresStore::Query(const std::string& sql, std::int64_t max_rows) {
  auto lease = TALLY_TRY(Acquire("sql"));
  PGconn* conn = lease.get();
  TALLY_RETURN_IF_ERROR(pg::Exec(conn, "BEGIN READ ONLY", "sql: begin"));
  struct Rollback {
    PGconn* conn;
    ~Rollback() {
      if (PQstatus(conn) == CONNECTION_OK) (void)pg::Exec(conn, "ROLLBACK", "sql: end");
    }
  } rollback{conn};
  // One round trip: the time limit, and the switch to the reader role when
  // this database has it set up (pg_sql_reader.cc). Nested CASEs so the
  // privilege functions run only once the role is known to exist.
  (void)TALLY_TRY(pg::Run(
      conn,
      fmt::format(
          "SELECT set_config('statement_timeout', '{0}', true), "
          "CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{1}') THEN "
          "CASE WHEN pg_has_role(current_user, '{1}', 'MEMBER') "
          "AND has_schema_privilege('{1}', current_schema(), 'USAGE') "
          "THEN set_config('role', '{1}', true) END END",
          options_.query_time_limit.count(), pg::kSqlReaderRole),
      {}, "sql: session"));
  if (PQsendQueryParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    return std::unexpected(pg::ErrorFromConn(conn, "sql"));
  }
  PQsetSingleRowMode(conn);

  QueryResult result;
  std::optional<core::Error> error;
  bool have_columns = false, capped = false;
  auto take_columns = [&](const PGresult* r) {
    if (have_columns) return;
    for (int c = 0; c < PQnfields(r); ++c) result.columns.emplace_back(PQfname(r, c));
    have_columns = true;
  };
  while (pg::ResultHandle res{PQgetResult(conn)}) {
    const PGresult* r = res.get();
    switch (PQresultStatus(r)) {
      case PGRES_SINGLE_TUPLE:
        take_columns(r);
        if (static_cast<std::int64_t>(result.rows.size()) < max_rows) {
          std::vector<SqlValue>& row = result.rows.emplace_back();
          for (int c = 0; c < PQnfields(r); ++c) row.push_back(Value(r, 0, c));
        } else if (!capped) {
          capped = true;  // enough rows: stop the statement rather than read the rest
          if (PGcancel* cancel = PQgetCancel(conn)) {
            char buf[256];
            PQcancel(cancel, buf, sizeof(buf));
            PQfreeCancel(cancel);
          }
        }
        break;
      case PGRES_TUPLES_OK:
        take_columns(r);
        break;
      case PGRES_EMPTY_QUERY:
        if (!error) error = core::Error::InvalidArgument("sql: empty statement");
        break;
      case PGRES_COMMAND_OK:
        if (!error) {
          error = core::Error::InvalidArgument(
              fmt::format("{} ({} is refused)", kReadOnlyMessage, PQcmdStatus(res.get())));
        }
        break;
      case PGRES_COPY_OUT: {
        char* buf = nullptr;
        while (PQgetCopyData(conn, &buf, 0) > 0) PQfreemem(buf);
        if (!error) error = core::Error::InvalidArgument(fmt::format("{} (COPY is refused)", kReadOnlyMessage));
        break;
      }
      case PGRES_COPY_IN:
        PQputCopyEnd(conn, "refused");
        if (!error) error = core::Error::InvalidArgument(fmt::format("{} (COPY is refused)", kReadOnlyMessage));
        break;
      default:
        // The cancel we sent after max_rows ends the statement with 57014.
        if (!(capped && pg::SqlState(r) == "57014") && !error) {
          error = QueryError(conn, r, options_.query_time_limit);
        }
        break;
    }
  }
  if (PQstatus(conn) != CONNECTION_OK) return std::unexpected(pg::ErrorFromConn(conn, "sql"));
  if (error) return std::unexpected(*error);
  return result;
}

}  // namespace tally::store
