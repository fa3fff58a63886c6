// A product created through the API of the real binary gets its Grafana
// dashboard at once when [grafana] url and token are configured.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>

#include "support/fake_grafana.h"
#include "support/http_client.h"
#include "support/server_process.h"

namespace tally {
namespace {

TEST(GrafanaHookTest, NewProductGetsItsDashboardFromTheTemplate) {
  testing::FakeGrafana grafana("glsa_hook");
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "admin");
  ASSERT_TRUE(key);
  setenv("TALLY_GRAFANA_URL", grafana.url().c_str(), 1);  // inherited by the child only
  setenv("TALLY_GRAFANA_TOKEN", "glsa_hook", 1);
  testing::ServerProcess server(TALLY_BINARY, data);
  auto started = server.Start();
  unsetenv("TALLY_GRAFANA_URL");
  unsetenv("TALLY_GRAFANA_TOKEN");
  ASSERT_TRUE(started);
  testing::HttpClient http("127.0.0.1", server.port());
  http.SetBearer(*key);
  auto r = http.Post("/v1/products", R"({"id":"3f2a9c1e-0a6b-4c3e-9a51-0d7f3e2a9b11","name":"SEO tool","type":"seo-site"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(grafana.dashboards().count("tally-product-3f2a9c1e0a6b"), 1u);
  EXPECT_TRUE(grafana.violations().empty());
  // An update is not a new product: no second push.
  auto before = grafana.log().size();
  ASSERT_EQ(http.Request("PATCH", "/v1/products/3f2a9c1e-0a6b-4c3e-9a51-0d7f3e2a9b11", R"({"status":"sunset"})")->status, 200);
  EXPECT_EQ(grafana.log().size(), before);

  // Pausing an agent annotates the overview and agent dashboards.
  ASSERT_EQ(http.Request("PUT", "/v1/agents/kev", R"({"role":"builder"})")->status, 201);
  auto paused = http.Post("/v1/agents/kev/pause", R"({"reason":"runaway test"})");
  ASSERT_EQ(paused->status, 200) << paused->body;
  for (int i = 0; i < 500 && grafana.annotations() < 2; ++i) usleep(10'000);  // bounded: the post is async
  EXPECT_EQ(grafana.annotations(), 2);
  EXPECT_TRUE(grafana.violations().empty());
  server.Kill(15);
}

}  // namespace
}  // namespace tally
