// Generated Grafana dashboards: the seed §8 hierarchy, stable uids and ids,
// deterministic output, every panel querying the configured datasource.
#include "dashboards/grafana_dashboards.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "support/temp_dir.h"

namespace tally::dashboards {
namespace {

namespace json = boost::json;

std::vector<model::Product> Products() {
  model::Product a;
  a.id = "3f2a9c1e-0a6b-4c3e-9a51-0d7f3e2a9b11";
  a.name = "SEO tool";
  a.type = "seo-site";
  model::Product b;
  b.id = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";
  b.name = "O'Reilly API";  // a quote in the name must not break the SQL
  b.type = "api";
  return {a, b};
}

TEST(DashboardsTest, BuildsTheSeedHierarchyPlusOnePerProduct) {
  auto all = BuildDashboards(Products());
  std::vector<std::string> uids;
  for (const auto& d : all) uids.push_back(d.uid);
  EXPECT_EQ(uids, (std::vector<std::string>{"tally-overview", "tally-financial", "tally-agents", "tally-growth",
                                            "tally-ops", "tally-product-0b1c2d3e4f50", "tally-product-3f2a9c1e0a6b"}));
  EXPECT_EQ(all[6].title, "tally / Product / SEO tool");
}

TEST(DashboardsTest, GenerationIsDeterministic) {
  auto first = BuildDashboards(Products());
  auto products = Products();
  std::swap(products[0], products[1]);  // input order must not matter
  auto second = BuildDashboards(products);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(PrettyJson(first[i].json), PrettyJson(second[i].json));
}

TEST(DashboardsTest, EveryPanelIsPlacedAndQueriesTheDatasource) {
  DashboardOptions options;
  options.datasource_uid = "my-pg";
  for (const auto& d : BuildDashboards(Products(), options)) {
    const auto& model = d.json.as_object();
    EXPECT_EQ(model.at("uid").as_string(), d.uid);
    std::set<std::int64_t> ids;
    for (const auto& pv : model.at("panels").as_array()) {
      const auto& p = pv.as_object();
      EXPECT_TRUE(ids.insert(p.at("id").as_int64()).second) << d.uid << ": duplicate panel id";
      const auto& pos = p.at("gridPos").as_object();
      EXPECT_LE(pos.at("x").as_int64() + pos.at("w").as_int64(), 24) << d.uid;
      if (p.at("type").as_string() == "row") continue;
      EXPECT_EQ(p.at("datasource").as_object().at("uid").as_string(), "my-pg");
      const auto& target = p.at("targets").as_array().at(0).as_object();
      std::string sql(target.at("rawSql").as_string());
      EXPECT_FALSE(sql.empty());
      EXPECT_EQ(target.at("datasource").as_object().at("uid").as_string(), "my-pg");
    }
  }
}

TEST(DashboardsTest, ProductPanelsFilterByTheProductAndQuoteNames) {
  auto all = BuildDashboards(Products());
  std::string text = PrettyJson(all[5].json);
  EXPECT_NE(text.find("product_id = '0b1c2d3e-4f50-4617-8899-aabbccddeeff'"), std::string::npos);
  EXPECT_NE(text.find("product_name = 'O''Reilly API'"), std::string::npos);
}

TEST(DashboardsTest, ExportWritesOneParsableFilePerDashboard) {
  testing::TempDir dir;
  auto all = BuildDashboards(Products());
  ASSERT_TRUE(ExportDashboards(all, dir.str() + "/out"));
  for (const auto& d : all) {
    std::ifstream in(dir.str() + "/out/" + d.uid + ".json");
    std::stringstream ss;
    ss << in.rdbuf();
    ASSERT_FALSE(ss.str().empty()) << d.uid;
    EXPECT_EQ(json::parse(ss.str()), d.json) << d.uid;
    EXPECT_EQ(ss.str(), PrettyJson(d.json)) << "a re-export must be byte-identical";
  }
}

}  // namespace
}  // namespace tally::dashboards
