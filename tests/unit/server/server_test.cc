// The HTTP API end to end in-process: real sockets, real SQLite store, real
// pipeline; faults through FaultyStore.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <future>

#include "core/clock.h"
#include "ingest/pipeline.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "support/faulty_store.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/temp_dir.h"

namespace tally::server {
namespace {

namespace json = boost::json;
using testing::ClientResponse;
using testing::HttpClient;

constexpr const char* kCall =
    R"({"event_id":"%ID%","time":"2026-03-01T12:00:00Z","agent_id":"kev","model":"gpt-4o","provider":"openai",)"
    R"("input_tokens":100,"output_tokens":20,"cost_usd":0.0015,"latency_ms":250,"status":"success"})";

std::string Call(const std::string& id) {
  std::string s = kCall;
  s.replace(s.find("%ID%"), 4, id);
  return s;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void TearDown() override { StopAll(); }

  void Start(ingest::PipelineOptions pipeline_options, std::int64_t max_body = 1 << 20) {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    faulty_ = std::make_unique<testing::FaultyStore>(*store_);
    prices_ = model::PriceTable::Defaults();
    testing::InProcessServer::Options options;
    options.pipeline = pipeline_options;
    options.max_body_bytes = max_body;
    server_ = std::make_unique<testing::InProcessServer>(*faulty_, core::SystemClock::Instance(), prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    admin_ = Key(store::kScopeAdmin);
  }

  void StopAll() { server_.reset(); }

  std::string Key(unsigned scopes) {
    auto k = CreateApiKey(*store_, scopes, "test", core::SystemClock::Instance().Now());
    EXPECT_TRUE(k);
    return k->secret;
  }

  HttpClient Client(const std::string& key) { return server_->Client(key); }

  std::int64_t StoredCalls() { return *store_->CountEvents(model::EventKind::kLlmCall); }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<testing::FaultyStore> faulty_;
  model::PriceTable prices_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::string admin_;
};

TEST_F(ServerTest, HealthzIsPublicAndEverythingElseNeedsAKey) {
  auto anon = Client("");
  EXPECT_EQ(anon.Get("/healthz")->status, 200);
  auto r = anon.Get("/v1/products");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->headers["www-authenticate"], "Bearer realm=\"tally\"");
  EXPECT_EQ(anon.Post("/v1/events/llm_calls", Call("a"))->status, 401);
  EXPECT_EQ(anon.Get("/metrics")->status, 401);
  auto bogus = Client("tally_not_a_real_key");
  EXPECT_EQ(bogus.Get("/v1/products")->status, 401);
}

TEST_F(ServerTest, MissingScopeIs403AndAdminImpliesAll) {
  auto ingest_only = Client(Key(store::kScopeIngest));
  auto r = ingest_only.Get("/v1/products");
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("read"), std::string::npos) << r->body;
  EXPECT_EQ(ingest_only.Post("/v1/events/llm_calls", Call("a"))->status, 200);
  auto reader = Client(Key(store::kScopeRead));
  EXPECT_EQ(reader.Post("/v1/events/llm_calls", Call("b"))->status, 403);
  EXPECT_EQ(reader.Post("/v1/products", R"({"name":"x","type":"api"})")->status, 403);
  auto admin = Client(admin_);
  EXPECT_EQ(admin.Get("/v1/products")->status, 200);
  EXPECT_EQ(admin.Post("/v1/events/llm_calls", Call("c"))->status, 200);
}

TEST_F(ServerTest, IngestAnswersAfterCommitWithAcceptedAndDuplicateCounts) {
  auto c = Client(admin_);
  auto r = c.Post("/v1/events/llm_calls", "[" + Call("a") + "," + Call("b") + "]");
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = json::parse(r->body).as_object();
  EXPECT_EQ(body["accepted"].as_int64(), 2);
  EXPECT_EQ(body["duplicates"].as_int64(), 0);
  EXPECT_EQ(StoredCalls(), 2);

  auto again = c.Post("/v1/events/llm_calls", Call("b") + "\n" + Call("c") + "\n", "application/x-ndjson");
  ASSERT_EQ(again->status, 200) << again->body;
  auto b2 = json::parse(again->body).as_object();
  EXPECT_EQ(b2["accepted"].as_int64(), 1);
  EXPECT_EQ(b2["duplicates"].as_int64(), 1);
  EXPECT_EQ(StoredCalls(), 3);
}

TEST_F(ServerTest, InvalidEventRejectsTheWholeBatchAndNamesIndexAndField) {
  std::string bad = Call("bad");
  bad.replace(bad.find("\"input_tokens\":100"), 18, "\"input_tokens\":-5");
  auto r = Client(admin_).Post("/v1/events/llm_calls", "[" + Call("ok") + "," + bad + "]");
  ASSERT_EQ(r->status, 400) << r->body;
  auto err = json::parse(r->body).as_object()["error"].as_object();
  EXPECT_EQ(err["code"].as_string(), "invalid_argument");
  bool found = false;
  for (const auto& d : err["details"].as_array()) {
    if (d.as_object().at("index").as_int64() == 1 && d.as_object().at("field").as_string() == "input_tokens") {
      found = true;
    }
  }
  EXPECT_TRUE(found) << r->body;
  EXPECT_EQ(StoredCalls(), 0) << "nothing of a rejected batch may be stored";
}

TEST_F(ServerTest, UnknownTableIs404AndBadJsonIs400) {
  auto c = Client(admin_);
  EXPECT_EQ(c.Post("/v1/events/nope", Call("a"))->status, 404);
  EXPECT_EQ(c.Post("/v1/events/llm_calls", "{not json")->status, 400);
  EXPECT_EQ(c.Request("DELETE", "/v1/events/llm_calls")->status, 405);
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
  StopAll();
  Start({}, /*max_body=*/1000);
  std::string big = "[";
  for (int i = 0; i < 20; ++i) big += (i ? "," : "") + Call("big" + std::to_string(i));
  big += "]";
  auto r = Client(admin_).Post("/v1/events/llm_calls", big);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(StoredCalls(), 0);
}

TEST_F(ServerTest, FullPipelineAnswers503WithRetryAfter) {
  StopAll();
  Start({.queue_events = 1, .group_events = 1});
  faulty_->CloseGate();
  auto first = std::async(std::launch::async, [&] { return Client(admin_).Post("/v1/events/llm_calls", Call("a")); });
  faulty_->WaitForAppends(1);
  auto r = Client(admin_).Post("/v1/events/llm_calls", Call("b"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers["retry-after"], "1");
  faulty_->OpenGate();
  EXPECT_EQ(first.get()->status, 200);
  EXPECT_EQ(StoredCalls(), 1);
}

TEST_F(ServerTest, FailedCommitIsNotAcknowledged) {
  faulty_->FailNextAppends(1, core::Error::Unavailable("database is locked"));
  auto r = Client(admin_).Post("/v1/events/llm_calls", Call("a"));
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(StoredCalls(), 0);
  EXPECT_EQ(Client(admin_).Post("/v1/events/llm_calls", Call("a"))->status, 200);
  EXPECT_EQ(StoredCalls(), 1);
}

TEST_F(ServerTest, ProductCrud) {
  auto c = Client(admin_);
  auto created = c.Post("/v1/products", R"({"name":"SEO tool","type":"seo-site","revenue_model":"ads"})");
  ASSERT_EQ(created->status, 201) << created->body;
  std::string id(json::parse(created->body).as_object()["id"].as_string());
  auto got = c.Get("/v1/products/" + id);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(json::parse(got->body).as_object()["name"].as_string(), "SEO tool");
  auto updated = c.Request("PATCH", "/v1/products/" + id, R"({"status":"sunset"})");
  ASSERT_EQ(updated->status, 200) << updated->body;
  auto after = json::parse(c.Get("/v1/products/" + id)->body).as_object();
  EXPECT_EQ(after["status"].as_string(), "sunset");
  EXPECT_EQ(after["name"].as_string(), "SEO tool") << "PATCH keeps absent fields";
  EXPECT_EQ(c.Request("PATCH", "/v1/products/00000000-0000-4000-8000-000000000000", "{}")->status, 404);
  auto dup = c.Post("/v1/products", R"({"id":")" + id + R"(","name":"again","type":"api"})");
  EXPECT_EQ(dup->status, 409);
  auto list = json::parse(c.Get("/v1/products")->body).as_object();
  EXPECT_EQ(list["items"].as_array().size(), 1u);
  EXPECT_EQ(c.Post("/v1/products", R"({"name":"no type"})")->status, 400);
}

TEST_F(ServerTest, AgentPutCreatesThenUpdates) {
  auto c = Client(admin_);
  auto r = c.Request("PUT", "/v1/agents/research-agent", R"({"role":"research","daily_budget":"25.00"})");
  ASSERT_EQ(r->status, 201) << r->body;
  auto r2 = c.Request("PUT", "/v1/agents/research-agent", R"({"daily_budget":30})");
  ASSERT_EQ(r2->status, 200) << r2->body;
  auto agent = json::parse(c.Get("/v1/agents/research-agent")->body).as_object();
  EXPECT_EQ(agent["role"].as_string(), "research");
  EXPECT_EQ(agent["daily_budget"].as_string(), "30.00");
  EXPECT_EQ(c.Get("/v1/agents/nobody")->status, 404);
}

TEST_F(ServerTest, SqlIsReadOnly) {
  auto c = Client(admin_);
  ASSERT_EQ(c.Post("/v1/events/llm_calls", Call("a"))->status, 200);
  auto r = c.Post("/v1/sql", R"({"sql":"SELECT agent_id, cost_usd FROM llm_calls"})");
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = json::parse(r->body).as_object();
  EXPECT_EQ(body["rows"].as_array().size(), 1u);
  EXPECT_EQ(body["rows"].as_array()[0].as_array()[1].as_int64(), 1500) << "micro-USD";
  EXPECT_EQ(c.Post("/v1/sql", R"({"sql":"DELETE FROM llm_calls"})")->status, 400);
  EXPECT_EQ(StoredCalls(), 1);
}

TEST_F(ServerTest, MetricsCountRequestsByRoutePattern) {
  auto c = Client(admin_);
  ASSERT_EQ(c.Post("/v1/events/llm_calls", Call("a"))->status, 200);
  auto m = c.Get("/metrics");
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("tally_http_requests_total{method=\"POST\",route=\"/v1/events/{table}\",status=\"200\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("tally_events_ingested_total{table=\"llm_calls\"} 1"), std::string::npos);
  EXPECT_NE(m->body.find("tally_commit_seconds_count"), std::string::npos);
  EXPECT_NE(m->body.find("tally_ingest_queue_events"), std::string::npos);
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto c = Client(admin_);
  for (int i = 0; i < 50; ++i) {
    auto r = c.Post("/v1/events/llm_calls", Call("k" + std::to_string(i)));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_EQ(StoredCalls(), 50);
}


TEST_F(ServerTest, HeadAnswersWithHeadersOnlyAndKeepsTheConnectionUsable) {
  auto c = Client(admin_);
  auto head = c.Request("HEAD", "/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto get = c.Get("/healthz");  // same connection: must not read a stray body
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_NE(get->body.find("ok"), std::string::npos);
}

TEST_F(ServerTest, BearerSchemeIsCaseInsensitive) {
  auto c = Client("");
  auto r = c.Request("GET", "/v1/products", "", "application/json", {{"Authorization", "bearer " + admin_}});
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, OversizedHeadersGet431) {
  auto c = Client(admin_);
  auto r = c.Request("GET", "/v1/products", "", "application/json", {{"X-Big", std::string(20000, 'a')}});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, ShutdownAnswersRequestsCommittedOnTheWayDown) {
  faulty_->CloseGate();
  auto pending = std::async(std::launch::async, [&] { return Client(admin_).Post("/v1/events/llm_calls", Call("a")); });
  faulty_->WaitForAppends(1);
  std::thread stopper([&] {
    server_->pipeline().Stop();  // waits for the held commit
    server_->http().Stop();
  });
  faulty_->OpenGate();
  stopper.join();
  auto r = pending.get();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200) << "a committed batch must be acknowledged, not reset";
  EXPECT_EQ(StoredCalls(), 1);
}

}  // namespace
}  // namespace tally::server
