// Router and Authenticator without sockets.
#include "server/router.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::server {
namespace {

using std::chrono::seconds;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : clock_(core::FromMicros(1'772'366'400'000'000)) {
    store_ = std::move(*store::SqliteStore::Open(dir_.str()));
    auth_ = std::make_unique<Authenticator>(*store_, clock_, seconds(10));
    router_ = std::make_unique<Router>(*auth_, metrics_);
    router_->Add("GET", "/v1/things/{id}", store::kScopeRead, [](std::shared_ptr<Call> c, Responder r) {
      HttpResponse resp;
      resp.body = c->params["id"] + "|" + c->principal.key_id;
      r(resp);
    });
    router_->Add("POST", "/v1/things/{id}", store::kScopeAdmin, [](std::shared_ptr<Call>, Responder r) {
      r(HttpResponse{});
    });
  }

  HttpResponse Send(const std::string& method, const std::string& target, const std::string& key) {
    HttpRequest req;
    req.method = method;
    ParseTarget(target, &req);
    if (!key.empty()) req.headers["authorization"] = "Bearer " + key;
    HttpResponse out;
    router_->Dispatch(std::move(req), [&](HttpResponse r) { out = std::move(r); });
    return out;
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  Metrics metrics_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, ExtractsDecodedPathParamsAndPrincipal) {
  auto key = CreateApiKey(*store_, store::kScopeRead, "r", clock_.Now());
  ASSERT_TRUE(key);
  auto r = Send("GET", "/v1/things/a%20b?x=1", key->secret);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "a b|" + key->id);
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  EXPECT_EQ(Send("GET", "/v1/nothing", "").status, 404);
  auto r = Send("DELETE", "/v1/things/1", "");
  EXPECT_EQ(r.status, 405);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].second, "GET, POST");
}

TEST_F(RouterTest, ScopesAreChecked) {
  auto reader = CreateApiKey(*store_, store::kScopeRead, "r", clock_.Now());
  EXPECT_EQ(Send("POST", "/v1/things/1", reader->secret).status, 403);
  auto admin = CreateApiKey(*store_, store::kScopeAdmin, "a", clock_.Now());
  EXPECT_EQ(Send("POST", "/v1/things/1", admin->secret).status, 200);
  EXPECT_EQ(Send("GET", "/v1/things/1", admin->secret).status, 200);
  EXPECT_EQ(Send("GET", "/v1/things/1", "").status, 401);
}

TEST_F(RouterTest, KeysAreStoredOnlyAsHashes) {
  auto key = CreateApiKey(*store_, store::kScopeIngest, "i", clock_.Now());
  ASSERT_TRUE(key);
  auto all = store_->ListApiKeys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].secret_hash, core::Sha256Hex(key->secret));
  auto dump = store_->Query("SELECT * FROM api_keys");
  ASSERT_TRUE(dump);
  for (const auto& row : dump->rows) {
    for (const auto& v : row) {
      if (auto* s = std::get_if<std::string>(&v)) {
        EXPECT_EQ(s->find(key->secret), std::string::npos);
      }
    }
  }
}

TEST_F(RouterTest, RevokedKeyStopsWorkingWithinTheCacheTtl) {
  auto key = CreateApiKey(*store_, store::kScopeRead, "r", clock_.Now());
  EXPECT_EQ(Send("GET", "/v1/things/1", key->secret).status, 200);
  ASSERT_TRUE(store_->RevokeApiKey(key->id, clock_.Now()));
  clock_.Advance(seconds(9));
  EXPECT_EQ(Send("GET", "/v1/things/1", key->secret).status, 200) << "still cached";
  clock_.Advance(seconds(1));
  EXPECT_EQ(Send("GET", "/v1/things/1", key->secret).status, 401);
}

TEST(HttpTypesTest, ErrorResponseListsDetails) {
  core::Error e(core::ErrorCode::kInvalidArgument, "1 invalid event",
                {core::ErrorDetail{3, "cost_usd", "\"1.1234567\"", "more than 6 decimals"}});
  auto r = ErrorResponse(e);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("index":3)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("field":"cost_usd")"), std::string::npos);
  EXPECT_EQ(ErrorResponse(core::Error::Unavailable("x")).headers[0].first, "Retry-After");
}

TEST(HttpTypesTest, ParseTargetDecodesQuery) {
  HttpRequest req;
  ParseTarget("/v1/x?from=2026-03-01T00%3A00%3A00Z&to=&flag", &req);
  EXPECT_EQ(req.path, "/v1/x");
  EXPECT_EQ(req.query["from"], "2026-03-01T00:00:00Z");
  EXPECT_EQ(req.query["to"], "");
  EXPECT_TRUE(req.query.contains("flag"));
}

}  // namespace
}  // namespace tally::server
