#include "store/postgres/pg_conn.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace tally::store::pg {
namespace {

std::string Trimmed(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

core::ErrorCode CodeForState(std::string_view state) {
  if (state.empty()) return core::ErrorCode::kUnavailable;  // no server answer: connection trouble
  if (state.starts_with("08") || state.starts_with("53") || state == "57P01" ||
      state == "57P02" || state == "57P03" || state == "40001" || state == "40P01") {
    return core::ErrorCode::kUnavailable;
  }
  if (state == "23502" || state == "23514" || state.starts_with("22") || state == "25006") {
    return core::ErrorCode::kInvalidArgument;
  }
  if (state == "23505" || state == "23503") return core::ErrorCode::kConflict;
  return core::ErrorCode::kInternal;
}

}  // namespace

core::Error ErrorFromConn(PGconn* conn, std::string_view context) {
  return core::Error::Unavailable(
      fmt::format("{}: postgres: {}", context, Trimmed(conn ? PQerrorMessage(conn) : "no connection")));
}

std::string SqlState(const PGresult* res) {
  const char* s = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

core::Error ErrorFromResult(PGconn* conn, const PGresult* res, std::string_view context) {
  if (res == nullptr || (conn != nullptr && PQstatus(conn) == CONNECTION_BAD)) {
    return ErrorFromConn(conn, context);
  }
  std::string state = SqlState(res);
  std::string message = Trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = Trimmed(PQresultErrorMessage(res));
  if (const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) {
    message += fmt::format(" ({})", Trimmed(detail));
  }
  return core::Error(CodeForState(state),
                     fmt::format("{}: postgres {}: {}", context, state.empty() ? "?" : state, message));
}

core::Status Exec(PGconn* conn, std::string_view sql, std::string_view context) {
  ResultHandle res(PQexec(conn, std::string(sql).c_str()));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return std::unexpected(ErrorFromResult(conn, res.get(), context));
  }
  return core::OkStatus();
}

core::Result<ResultHandle> Run(PGconn* conn, std::string_view sql, const std::vector<Param>& params,
                               std::string_view context) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  ResultHandle res(PQexecParams(conn, std::string(sql).c_str(), static_cast<int>(params.size()),
                                nullptr, values.data(), nullptr, nullptr, 0));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return std::unexpected(ErrorFromResult(conn, res.get(), context));
  }
  return res;
}

core::Status CopyIn(PGconn* conn, std::string_view copy_sql, std::string_view data,
                    std::string_view context) {
  ResultHandle start(PQexec(conn, std::string(copy_sql).c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return std::unexpected(ErrorFromResult(conn, start.get(), context));
  }
  // Sent in slices so libpq never holds one huge buffer twice.
  constexpr size_t kSlice = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kSlice) {
    size_t n = std::min(kSlice, data.size() - off);
    if (PQputCopyData(conn, data.data() + off, static_cast<int>(n)) != 1) {
      return std::unexpected(ErrorFromConn(conn, context));
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) return std::unexpected(ErrorFromConn(conn, context));
  core::Status status = core::OkStatus();
  while (ResultHandle res{PQgetResult(conn)}) {
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK && status) {
      status = std::unexpected(ErrorFromResult(conn, res.get(), context));
    }
  }
  if (status && PQstatus(conn) == CONNECTION_BAD) {
    return std::unexpected(ErrorFromConn(conn, context));
  }
  return status;
}

void AppendCopyText(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
}

void AppendCopyInt(std::string* out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

std::int64_t Int(const PGresult* r, int row, int col) {
  const char* v = PQgetvalue(r, row, col);
  std::int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

std::optional<std::string> OptText(const PGresult* r, int row, int col) {
  if (IsNull(r, row, col)) return std::nullopt;
  return Text(r, row, col);
}

std::optional<std::int64_t> OptInt(const PGresult* r, int row, int col) {
  if (IsNull(r, row, col)) return std::nullopt;
  return Int(r, row, col);
}

}  // namespace tally::store::pg
