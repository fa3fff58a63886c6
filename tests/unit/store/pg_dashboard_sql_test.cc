// Every panel query of the generated Grafana dashboards runs on a real
// PostgreSQL store's schema, with Grafana's macros expanded the way its
// PostgreSQL data source expands them, in a business time zone other than UTC.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <regex>

#include "dashboards/grafana_dashboards.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

// $__timeFilter(c) -> c BETWEEN from AND to; $__timeGroupAlias(c, 1h|1d) ->
// the bucket start AS "time"; $__timeFrom() / $__timeTo() -> the range ends.
std::string ExpandMacros(std::string sql) {
  const std::string from = "'2026-02-01T00:00:00Z'::timestamptz";
  const std::string to = "'2026-03-08T00:00:00Z'::timestamptz";
  sql = std::regex_replace(sql, std::regex(R"(\$__timeFilter\(([^)]*)\))"),
                           "$1 BETWEEN " + from + " AND " + to);
  sql = std::regex_replace(sql, std::regex(R"(\$__timeGroupAlias\(([^,]*), 1h\))"),
                           "date_trunc('hour', $1) AS \"time\"");
  sql = std::regex_replace(sql, std::regex(R"(\$__timeGroupAlias\(([^,]*), 1d\))"),
                           "date_trunc('day', $1) AS \"time\"");
  sql = std::regex_replace(sql, std::regex(R"(\$__timeFrom\(\))"), from);
  sql = std::regex_replace(sql, std::regex(R"(\$__timeTo\(\))"), to);
  return sql;
}

class PgDashboardSqlTest : public PgFreshStoreTest {};

TEST_F(PgDashboardSqlTest, EveryPanelQueryRunsOnTheStoreSchema) {
  model::Product p;
  p.id = "3f2a9c1e-0a6b-4c3e-9a51-0d7f3e2a9b11";
  p.name = "O'Reilly API";
  p.type = "api";
  ASSERT_TRUE(store_->PutProduct(p));
  auto batch = MakeBatch({MakeLlmCall("c1", 1'000'000)});
  ASSERT_TRUE(AppendOne(*store_, batch));

  dashboards::DashboardOptions options;
  options.time_zone = "America/New_York";
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url_.c_str()), PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
  int ran = 0;
  for (const auto& d : dashboards::BuildDashboards({p}, options)) {
    EXPECT_EQ(d.json.as_object().at("timezone").as_string(), "America/New_York") << d.uid;
    for (const auto& pv : d.json.as_object().at("panels").as_array()) {
      const auto& panel = pv.as_object();
      if (panel.at("type").as_string() == "row") continue;
      const std::string sql = ExpandMacros(
          std::string(panel.at("targets").as_array().at(0).as_object().at("rawSql").as_string()));
      ASSERT_EQ(sql.find("$__"), std::string::npos) << "macro left in: " << sql;
      std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), PQclear);
      EXPECT_EQ(PQresultStatus(res.get()), PGRES_TUPLES_OK)
          << d.uid << " / " << panel.at("title").as_string() << ": " << PQerrorMessage(conn.get())
          << "\n" << sql;
      ++ran;
    }
  }
  EXPECT_GT(ran, 30);
}

TEST_F(PgDashboardSqlTest, TodayPanelsAndSeriesUseTheBusinessZone) {
  dashboards::DashboardOptions options;
  options.time_zone = "Asia/Kolkata";
  const auto all = dashboards::BuildDashboards({}, options);
  const std::string text = dashboards::PrettyJson(all.at(0).json);
  EXPECT_NE(text.find("date_trunc('day', now(), 'Asia/Kolkata')"), std::string::npos);
  EXPECT_NE(text.find("date_trunc('month', now(), 'Asia/Kolkata')"), std::string::npos);
  EXPECT_EQ(text.find("date_trunc('day', now())"), std::string::npos);
  // Series bucket by business hours and days, never Grafana's UTC ones.
  for (const auto& d : all) {
    const std::string json = dashboards::PrettyJson(d.json);
    EXPECT_EQ(json.find("$__timeGroupAlias"), std::string::npos) << d.uid;
  }
  const std::string financial = dashboards::PrettyJson(all.at(1).json);
  EXPECT_NE(financial.find("date_trunc('day', re.time, 'Asia/Kolkata') AS \\\"time\\\""),
            std::string::npos);
}

}  // namespace
}  // namespace tally::store
