// GrafanaClient against a local HTTP server that checks every request the
// way Grafana's HTTP API documents it: paths, methods, bodies, bearer token.
#include "dashboards/grafana_client.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <mutex>
#include <set>

#include "support/fake_grafana.h"

namespace tally::dashboards {
namespace {

using testing::FakeGrafana;

model::Product OneProduct() {
  model::Product p;
  p.id = "3f2a9c1e-0a6b-4c3e-9a51-0d7f3e2a9b11";
  p.name = "SEO tool";
  p.type = "seo-site";
  return p;
}

TEST(GrafanaClientTest, FirstPushCreatesFolderDatasourceAndDashboards) {
  FakeGrafana grafana("glsa_test");
  GrafanaClient client(grafana.url(), "glsa_test");
  auto dashboards = BuildDashboards({OneProduct()});
  ASSERT_TRUE(PushAll(client, dashboards, DatasourceSpec{}));
  EXPECT_TRUE(grafana.violations().empty()) << grafana.violations()[0];
  auto log = grafana.log();
  ASSERT_GE(log.size(), 4u);
  EXPECT_EQ(log[0], "GET /api/folders/tally");
  EXPECT_EQ(log[1], "POST /api/folders");
  EXPECT_EQ(log[2], "GET /api/datasources/uid/tally-pg");
  EXPECT_EQ(log[3], "POST /api/datasources");
  EXPECT_EQ(grafana.dashboards().size(), dashboards.size());
  EXPECT_EQ(grafana.dashboards().count("tally-product-3f2a9c1e0a6b"), 1u);
}

TEST(GrafanaClientTest, SecondPushUpdatesInPlace) {
  FakeGrafana grafana("glsa_test");
  GrafanaClient client(grafana.url(), "glsa_test");
  auto dashboards = BuildDashboards({});
  ASSERT_TRUE(PushAll(client, dashboards, DatasourceSpec{}));
  size_t first = grafana.log().size();
  ASSERT_TRUE(PushAll(client, dashboards, DatasourceSpec{}));
  auto log = grafana.log();
  std::vector<std::string> second(log.begin() + static_cast<long>(first), log.end());
  EXPECT_EQ(second[0], "GET /api/folders/tally");
  EXPECT_EQ(second[1], "GET /api/datasources/uid/tally-pg");
  EXPECT_EQ(second[2], "PUT /api/datasources/uid/tally-pg") << "no second folder or datasource";
  EXPECT_TRUE(grafana.violations().empty());
}

TEST(GrafanaClientTest, AWrongTokenIsReportedAsPermissionDenied) {
  FakeGrafana grafana("glsa_right");
  GrafanaClient client(grafana.url(), "glsa_wrong");
  auto s = PushAll(client, BuildDashboards({}), DatasourceSpec{});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), core::ErrorCode::kPermissionDenied);
}

TEST(GrafanaClientTest, AnnotationsCarryTheTallyTag) {
  FakeGrafana grafana("glsa_test");
  GrafanaClient client(grafana.url(), "glsa_test");
  ASSERT_TRUE(client.Annotate("tally-overview", core::FromMicros(1'772'366'400'000'000),
                              "research-agent paused: $2.40/min", {"pause"}));
  EXPECT_EQ(grafana.annotations(), 1);
  EXPECT_TRUE(grafana.violations().empty());
}

TEST(GrafanaClientTest, UnreachableGrafanaIsUnavailable) {
  GrafanaClient client("http://127.0.0.1:1", "t");
  auto s = client.EnsureFolder("tally", "tally");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace tally::dashboards
