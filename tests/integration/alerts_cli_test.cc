// `tally alerts list|ack|silence` on a data folder, and /v1/alerts on a real
// server over the same folder: read scope lists, admin scope changes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "core/clock.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

namespace json = boost::json;

std::int64_t Fire(store::Store& s, const std::string& rule, const std::string& subject, const std::string& message) {
  store::AlertRecord a;
  a.rule = rule;
  a.subject = subject;
  a.severity = "warning";
  a.message = message;
  a.details = R"({"percent":85})";
  a.fired_at = core::SystemClock::Instance().Now();
  a.last_seen_at = a.fired_at;
  return s.FireAlert(a)->alert.id;
}

TEST(AlertsCliTest, ListAckSilenceOnTheDataFolderAndOverHttpWithScopes) {
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  std::int64_t id = 0, other = 0;
  {
    auto s = std::move(*store::SqliteStore::Open(data));
    id = Fire(*s, "budget_warning", "agent:kev", "kev at 85% of its daily budget ($8.50 of $10.00)");
    other = Fire(*s, "zero_revenue", "product:p", "p has earned $0.00 in the last 48 h; flagged for review");
    ASSERT_TRUE(s->ResolveAlert(other, core::SystemClock::Instance().Now()));
  }
  auto list = testing::RunCommand(TALLY_BINARY, {"alerts", "list", "--state", "firing", "--data", data});
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_NE(list->find("kev at 85% of its daily budget"), std::string::npos) << *list;
  EXPECT_EQ(list->find("flagged for review"), std::string::npos) << *list;

  auto ack = testing::RunCommand(TALLY_BINARY, {"alerts", "ack", std::to_string(id), "--data", data});
  ASSERT_TRUE(ack);
  EXPECT_EQ(json::parse(*ack).at("acked_by").as_string(), "cli");
  auto silence = testing::RunCommand(
      TALLY_BINARY, {"alerts", "silence", std::to_string(id), "--until", "2099-01-01T00:00:00Z", "--data", data});
  ASSERT_TRUE(silence);
  EXPECT_EQ(json::parse(*silence).at("silenced_until").as_string(), "2099-01-01T00:00:00Z");
  EXPECT_FALSE(testing::RunCommand(TALLY_BINARY, {"alerts", "ack", "999", "--data", data}));

  auto read_key = testing::CreateKey(TALLY_BINARY, data, "read");
  auto admin_key = testing::CreateKey(TALLY_BINARY, data, "admin");
  ASSERT_TRUE(read_key && admin_key);
  // Evaluation off: it would resolve these hand-made alerts at once (no agent
  // "kev" exists to trip them).
  std::string config = dir.str() + "/tally.toml";
  std::ofstream(config) << "[alerts]\nenabled = false\n";
  testing::ServerProcess server(TALLY_BINARY, data, {"--config", config});
  ASSERT_TRUE(server.Start());
  testing::HttpClient reader("127.0.0.1", server.port());
  reader.SetBearer(*read_key);
  auto all = reader.Get("/v1/alerts");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  auto alerts = json::parse(all->body).at("alerts").as_array();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].at("id").as_int64(), other);  // newest first
  EXPECT_EQ(alerts[1].at("details").at("percent").as_int64(), 85);
  auto resolved = reader.Get("/v1/alerts?state=resolved");
  EXPECT_EQ(json::parse(resolved->body).at("alerts").as_array().size(), 1u);
  EXPECT_EQ(reader.Get("/v1/alerts?state=open")->status, 400);
  auto overview = reader.Get("/v1/overview");
  ASSERT_EQ(overview->status, 200) << overview->body;
  auto firing = json::parse(overview->body).at("alerts").as_array();
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].at("rule").as_string(), "budget_warning");

  std::string path = "/v1/alerts/" + std::to_string(other);
  EXPECT_EQ(reader.Post(path + "/ack", "")->status, 403);
  testing::HttpClient admin("127.0.0.1", server.port());
  admin.SetBearer(*admin_key);
  auto acked = admin.Post(path + "/ack", "");
  ASSERT_EQ(acked->status, 200) << acked->body;
  EXPECT_FALSE(json::parse(acked->body).at("acked_at").is_null());
  auto silenced = admin.Post(path + "/silence", R"({"until":"2099-06-01T12:00:00Z"})");
  ASSERT_EQ(silenced->status, 200) << silenced->body;
  EXPECT_EQ(json::parse(silenced->body).at("silenced_until").as_string(), "2099-06-01T12:00:00Z");
  EXPECT_EQ(admin.Post(path + "/silence", R"({"until":"tomorrow"})")->status, 400);
  EXPECT_EQ(admin.Post("/v1/alerts/999/ack", "")->status, 404);
  auto status = reader.Get("/v1/alerts/status");
  ASSERT_EQ(status->status, 200);
  EXPECT_FALSE(json::parse(status->body).at("enabled").as_bool());
}

}  // namespace
}  // namespace tally
