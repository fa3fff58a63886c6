// POST /v1/sql {"sql": "SELECT ...", "max_rows": 1000}: one read-only
// statement over the store (read scope). Writes are refused by the store.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.h"
#include "server/handlers.h"

namespace tally::server {

boost::json::value SqlResultToJson(const store::QueryResult& result) {
  boost::json::array columns;
  for (const auto& c : result.columns) columns.emplace_back(c);
  boost::json::array rows;
  rows.reserve(result.rows.size());
  for (const auto& row : result.rows) {
    boost::json::array out;
    out.reserve(row.size());
    for (const auto& v : row) {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              out.emplace_back(nullptr);
            } else {
              out.emplace_back(x);
            }
          },
          v);
    }
    rows.emplace_back(std::move(out));
  }
  return boost::json::object{{"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

// An answer is built in memory: cap it so one request cannot exhaust it.
constexpr std::int64_t kMaxSqlRows = 100'000;

void RegisterSqlRoutes(Router& router, Services& s) {
  router.Add("POST", "/v1/sql", store::kScopeRead, [&s](std::shared_ptr<Call> call, Responder respond) {
    auto body = core::ParseJson(call->request.body);
    if (!body || !body->is_object() || !body->as_object().contains("sql") ||
        !body->as_object().at("sql").is_string()) {
      respond(ErrorResponse(core::Error::InvalidArgument("body must be {\"sql\": \"SELECT ...\"}")));
      return;
    }
    std::string sql(body->as_object().at("sql").as_string());
    std::int64_t max_rows = 10'000;
    if (auto* m = body->as_object().if_contains("max_rows"); m && m->is_int64() && m->as_int64() > 0) {
      max_rows = std::min<std::int64_t>(m->as_int64(), kMaxSqlRows);
    }
    s.run_blocking([&s, sql = std::move(sql), max_rows, respond = std::move(respond)] {
      auto result = s.store.Query(sql, max_rows);
      if (!result) {
        respond(ErrorResponse(result.error()));
        return;
      }
      respond(JsonResponse(200, SqlResultToJson(*result)));
    });
  });
}

}  // namespace tally::server
