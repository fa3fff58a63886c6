// GitHub: X-Hub-Signature-256 against the recorded vectors (GitHub's
// published one included), conversion of the recorded payloads to
// ops_events, then end to end in-process: signature, parking, mapping and
// replay, redelivery counted once, ops_daily filled.
#include <gtest/gtest.h>

#include <cctype>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/ids.h"
#include "ingest/sources/github_source.h"
#include "ingest/sources/source_registry.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"
#include "unit/sources/fixtures.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;

constexpr const char* kProduct = "5c1d0e2f-6a7b-4c8d-9e0f-1a2b3c4d5e6f";
constexpr const char* kSecret = "holdout-gh-webhook-secret-2f9c71";

store::ProductMapping Mapping(const std::string& external_id) {
  store::ProductMapping m;
  m.provider = "github";
  m.external_id = external_id;
  m.product_id = kProduct;
  return m;
}

std::string Payload(const std::string& file) { return testing::ReadFixture("github/payloads/" + file); }

// What GitHubSource::Payload makes of a delivery.
std::string Envelope(const std::string& event, const std::string& body,
                     const std::string& delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958") {
  GitHubSource source({kSecret});
  std::map<std::string, std::string> headers{{"x-github-event", event},
                                             {"x-github-delivery", delivery}};
  auto p = source.Payload(SourceRequest{&headers, body, {}});
  EXPECT_TRUE(p) << p.error().ToString();
  return p ? *p : std::string();
}

const model::OpsEvent& Ops(const Conversion& c) { return std::get<model::OpsEvent>(c.events.at(0)); }

TEST(GitHubSignature, RecordedVectors) {
  auto doc = testing::ReadFixtureJson("github/signatures/github_signature_vectors.json");
  int checked = 0;
  for (const auto& v : doc.at("vectors").as_array()) {
    const auto& o = v.as_object();
    std::string body = o.contains("payload_file")
                           ? testing::ReadFixture("github/" + std::string(o.at("payload_file").as_string()))
                           : std::string(o.at("payload_inline").as_string());
    GitHubSource source({std::string(o.at("secret").as_string())});
    std::map<std::string, std::string> headers{
        {"x-hub-signature-256", std::string(o.at("x_hub_signature_256").as_string())}};
    EXPECT_EQ(source.Verify(SourceRequest{&headers, body, {}}, core::Timestamp()).has_value(),
              o.at("expected_valid").as_bool())
        << o.at("name").as_string();
    ++checked;
  }
  EXPECT_EQ(checked, 15);
}

TEST(GitHubSignature, AnyConfiguredSecretAndNoneMissing) {
  const std::string body = Payload("push.branch-1-commit.octokit-webhooks-examples.json");
  std::map<std::string, std::string> headers{
      {"x-hub-signature-256", "sha256=" + core::HmacSha256Hex(kSecret, body)}};
  SourceRequest req{&headers, body, {}};
  EXPECT_TRUE(GitHubSource({"old-secret", kSecret}).Verify(req, core::Timestamp()));
  auto wrong = GitHubSource({"old-secret"}).Verify(req, core::Timestamp());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), core::ErrorCode::kUnauthenticated);
  auto unconfigured = GitHubSource({}).Verify(req, core::Timestamp());
  ASSERT_FALSE(unconfigured);
  EXPECT_EQ(unconfigured.error().code(), core::ErrorCode::kUnavailable);
  std::map<std::string, std::string> none;
  EXPECT_FALSE(GitHubSource({kSecret}).Verify(SourceRequest{&none, body, {}}, core::Timestamp()));
}

TEST(GitHubConvert, RecordedPayloadsBecomeOpsEvents) {
  GitHubSource source({kSecret});
  std::vector<store::ProductMapping> m{Mapping("Codertocat/Hello-World"),
                                       Mapping("ailisp/gcbapp-buildconfig-example")};

  auto push = source.Convert(Envelope("push", Payload("push.branch-1-commit.octokit-webhooks-examples.json")), m);
  ASSERT_TRUE(push) << push.error().ToString();
  ASSERT_EQ(push->kind, Conversion::Kind::kEvents);
  EXPECT_EQ(Ops(*push).kind, "push");
  EXPECT_EQ(Ops(*push).status, "pushed");
  EXPECT_EQ(Ops(*push).source, "github");
  EXPECT_EQ(Ops(*push).product_id, kProduct);
  EXPECT_EQ(Ops(*push).repository, "Codertocat/Hello-World");
  EXPECT_EQ(Ops(*push).event_id,
            "github:push:Codertocat/Hello-World:refs/heads/master:6113728f27ae82c7b1a177c8d03f9e96e0adf246");
  EXPECT_EQ(core::FormatRfc3339(Ops(*push).time), "2019-05-15T15:19:25Z");
  EXPECT_EQ(json::parse(Ops(*push).metadata).at("commits"), 1);

  // A real capture, with an offset in the commit time.
  auto real = source.Convert(Envelope("push", Payload("push.reallyfastci-capture.json")), m);
  ASSERT_TRUE(real) << real.error().ToString();
  EXPECT_EQ(core::FormatRfc3339(Ops(*real).time), "2019-11-26T07:01:12Z");

  auto deleted = source.Convert(Envelope("push", Payload("push.tag-deleted.octokit-webhooks-examples.json")), m);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->kind, Conversion::Kind::kIgnored);

  auto merged = source.Convert(
      Envelope("pull_request", Payload("pull_request.closed.merged.reallyfastci-capture.json")), m);
  ASSERT_TRUE(merged) << merged.error().ToString();
  ASSERT_EQ(merged->kind, Conversion::Kind::kEvents);
  EXPECT_EQ(Ops(*merged).kind, "pull_request_merged");
  EXPECT_EQ(Ops(*merged).status, "merged");
  EXPECT_EQ(Ops(*merged).event_id, "github:pull_request_merged:ailisp/gcbapp-buildconfig-example:3");
  EXPECT_EQ(core::FormatRfc3339(Ops(*merged).time), "2019-11-26T07:01:13Z");

  auto closed = source.Convert(
      Envelope("pull_request", Payload("pull_request.closed.not-merged.octokit-webhooks-examples.json")), m);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->kind, Conversion::Kind::kIgnored);

  auto deploy = source.Convert(
      Envelope("deployment_status", Payload("deployment_status.created.success.octokit-webhooks-examples.json")), m);
  ASSERT_TRUE(deploy) << deploy.error().ToString();
  ASSERT_EQ(deploy->kind, Conversion::Kind::kEvents);
  EXPECT_EQ(Ops(*deploy).kind, "deploy");
  EXPECT_EQ(Ops(*deploy).status, "success");
  EXPECT_EQ(Ops(*deploy).event_id, "github:deploy:209916254");
  EXPECT_EQ(Ops(*deploy).latency_ms, 2000);  // 15:20:53 created, 15:20:55 succeeded
  EXPECT_EQ(json::parse(Ops(*deploy).metadata).at("environment"), "production");

  auto release = source.Convert(Envelope("release", Payload("release.published.octokit-webhooks-examples.json")), m);
  ASSERT_TRUE(release) << release.error().ToString();
  EXPECT_EQ(Ops(*release).kind, "release");
  EXPECT_EQ(Ops(*release).event_id, "github:release:17372790");
  EXPECT_EQ(json::parse(Ops(*release).metadata).at("tag"), "0.0.1");

  for (const auto& [event, file] :
       {std::pair{"ping", "ping.octokit-webhooks-examples.json"},
        std::pair{"deployment", "deployment.created.octokit-webhooks-examples.json"},
        std::pair{"workflow_run", "workflow_run.completed.success.octokit-webhooks-examples.json"}}) {
    auto c = source.Convert(Envelope(event, Payload(file)), m);
    ASSERT_TRUE(c) << event;
    EXPECT_EQ(c->kind, Conversion::Kind::kIgnored) << event;
  }
}

TEST(GitHubConvert, UnmappedRepositoryIsNamedAndLowercaseMappingMatches) {
  GitHubSource source({kSecret});
  std::string push = Envelope("push", Payload("push.branch-1-commit.octokit-webhooks-examples.json"));
  auto unmapped = source.Convert(push, {});
  ASSERT_TRUE(unmapped);
  EXPECT_EQ(unmapped->kind, Conversion::Kind::kUnmapped);
  EXPECT_NE(unmapped->reason.find("repository 'Codertocat/Hello-World'"), std::string::npos)
      << unmapped->reason;
  std::vector<store::ProductMapping> lower{Mapping("codertocat/hello-world")};
  auto mapped = source.Convert(push, lower);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->kind, Conversion::Kind::kEvents);
}

// application/x-www-form-urlencoded as GitHub (Ruby's URI.encode_www_form)
// sends it: unreserved bytes as they are, space as '+', the rest %XX.
std::string FormEncode(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '*' || ch == '-' || ch == '.' || ch == '_') {
      out.push_back(static_cast<char>(ch));
    } else if (ch == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

TEST(GitHubPayload, FormEncodedBodyGivesTheSameEnvelopeAsJson) {
  GitHubSource source({kSecret});
  for (const char* file : {"push.branch-1-commit.octokit-webhooks-examples.json",
                           "deployment_status.created.success.octokit-webhooks-examples.json"}) {
    std::string json_body = Payload(file);
    std::string form_body = "payload=" + FormEncode(json_body);
    for (const char* type : {"application/x-www-form-urlencoded",
                             "Application/X-WWW-Form-Urlencoded; charset=utf-8"}) {
      std::map<std::string, std::string> headers{{"x-github-event", "push"},
                                                 {"x-github-delivery", "d-9"},
                                                 {"content-type", type}};
      auto p = source.Payload(SourceRequest{&headers, form_body, {}});
      ASSERT_TRUE(p) << file << " " << type << ": " << p.error().ToString();
      EXPECT_EQ(json::parse(*p), json::parse(Envelope("push", json_body, "d-9"))) << file;
    }
  }
}

TEST(GitHubPayload, FormWithoutPayloadOrWithBadJsonIsRefusedNamingTheField) {
  GitHubSource source({kSecret});
  std::map<std::string, std::string> form{{"x-github-event", "push"},
                                          {"content-type", "application/x-www-form-urlencoded"}};
  auto missing = source.Payload(SourceRequest{&form, "zen=hello", {}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("'payload'"), std::string::npos) << missing.error().message();
  auto bad = source.Payload(SourceRequest{&form, "payload=%7Bnot+json", {}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("in its 'payload' field"), std::string::npos) << bad.error().message();
  // A form body sent as JSON is not JSON: the message names both content types.
  std::map<std::string, std::string> as_json{{"x-github-event", "push"},
                                             {"content-type", "application/json"}};
  auto mislabelled = source.Payload(SourceRequest{&as_json, "payload=%7B%7D", {}});
  ASSERT_FALSE(mislabelled);
  EXPECT_NE(mislabelled.error().message().find("application/x-www-form-urlencoded"), std::string::npos)
      << mislabelled.error().message();
}

class GitHubWebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    model::Product p;
    p.id = kProduct;
    p.name = "Hello";
    p.type = "micro-saas";
    ASSERT_TRUE(store_->PutProduct(p));
    core::SourcesConfig config;
    config.github_webhook_secrets = {"rolled-out-secret", kSecret};
    sources_ = SourceRegistry::FromConfig(config);
    prices_ = model::PriceTable::Defaults();
    testing::InProcessServerOptions options;
    options.configure = [this](server::Services& services) { services.sources = sources_.get(); };
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    auto key = server::CreateApiKey(*store_, store::kScopeAdmin, "test", core::SystemClock::Instance().Now());
    ASSERT_TRUE(key);
    admin_ = key->secret;
  }
  void TearDown() override { server_->Stop(); }

  testing::ClientResponse Deliver(const std::string& event, const std::string& body,
                                  const std::string& delivery, const std::string& secret = kSecret) {
    testing::HttpClient c("127.0.0.1", server_->port());
    auto r = c.Request("POST", "/webhooks/github", body, "application/json",
                       {{"X-GitHub-Event", event},
                        {"X-GitHub-Delivery", delivery},
                        {"X-Hub-Signature-256", "sha256=" + core::HmacSha256Hex(secret, body)}});
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  // A form-encoded delivery signed over `signed_body` (the raw form body
  // unless a test says otherwise).
  testing::ClientResponse DeliverForm(const std::string& event, const std::string& form_body,
                                      const std::string& delivery, const std::string& signed_body = "") {
    testing::HttpClient c("127.0.0.1", server_->port());
    const std::string& sig_over = signed_body.empty() ? form_body : signed_body;
    auto r = c.Request("POST", "/webhooks/github", form_body, "application/x-www-form-urlencoded",
                       {{"X-GitHub-Event", event},
                        {"X-GitHub-Delivery", delivery},
                        {"X-Hub-Signature-256", "sha256=" + core::HmacSha256Hex(kSecret, sig_over)}});
    EXPECT_TRUE(r);
    return r ? *r : testing::ClientResponse{};
  }
  std::int64_t Ops() { return *store_->CountEvents(model::EventKind::kOps); }

  testing::TempDir dir_;
  testing::SimulatedClock clock_{core::FromMicros(1'700'000'000'000'000)};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<SourceRegistry> sources_;
  model::PriceTable prices_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::string admin_;
};

TEST_F(GitHubWebhookServerTest, SignatureParkingMappingReplayAndRedelivery) {
  const std::string deploy = Payload("deployment_status.created.success.octokit-webhooks-examples.json");
  EXPECT_EQ(Deliver("deployment_status", deploy, "d-1", "wrong-secret").status, 400);
  std::string tampered = deploy;
  tampered.replace(tampered.find("success"), 7, "failure");
  {
    testing::HttpClient c("127.0.0.1", server_->port());
    auto r = c.Request("POST", "/webhooks/github", tampered, "application/json",
                       {{"X-GitHub-Event", "deployment_status"},
                        {"X-Hub-Signature-256", "sha256=" + core::HmacSha256Hex(kSecret, deploy)}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
  }
  EXPECT_EQ(store_->ListParked(true)->size(), 0u);

  // Unmapped: accepted (202) and parked, the same delivery three times parks once.
  for (int i = 0; i < 3; ++i) {
    auto r = Deliver("deployment_status", deploy, "d-1");
    EXPECT_EQ(r.status, 202) << r.body;
  }
  auto parked = store_->ListParked(false);
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ((*parked)[0].provider, "github");
  EXPECT_EQ((*parked)[0].event_type, "deployment_status.created");
  EXPECT_EQ(Ops(), 0);

  // The mapping replays it; redeliveries afterwards count once.
  testing::HttpClient admin("127.0.0.1", server_->port());
  admin.SetBearer(admin_);
  auto map = admin.Request(
      "POST", "/v1/mappings",
      fmt::format(R"({{"provider":"github","external_id":"Codertocat/Hello-World","product_id":"{}"}})", kProduct));
  ASSERT_TRUE(map);
  EXPECT_EQ(map->status, 201) << map->body;
  EXPECT_EQ(json::parse(map->body).at("replay").at("replayed"), 1);
  EXPECT_EQ(Ops(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Deliver("deployment_status", deploy, "d-1").status, 200);
  EXPECT_EQ(Ops(), 1);

  EXPECT_EQ(Deliver("release", Payload("release.published.octokit-webhooks-examples.json"), "d-2").status, 200);
  EXPECT_EQ(Deliver("push", Payload("push.branch-1-commit.octokit-webhooks-examples.json"), "d-3").status, 200);
  auto ping = Deliver("ping", Payload("ping.octokit-webhooks-examples.json"), "d-4");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(json::parse(ping.body).at("status"), "ignored");
  EXPECT_EQ(Ops(), 3);

  auto rollup = store_->ReadRollups(core::FromMicros(0), core::FromMicros(2'000'000'000'000'000),
                                    store::kOpsRollup);
  ASSERT_TRUE(rollup);
  ASSERT_EQ(rollup->ops.size(), 3u);  // one day, three kinds
  std::int64_t deploys = 0;
  for (const auto& row : rollup->ops) {
    EXPECT_EQ(row.product_id, kProduct);
    if (row.kind == "deploy") {
      deploys = row.event_count;
      EXPECT_EQ(row.failure_count, 0);
      EXPECT_EQ(row.latency_ms_sum, 2000);
    }
  }
  EXPECT_EQ(deploys, 1);
}

TEST_F(GitHubWebhookServerTest, FormEncodedDeliveriesAreVerifiedOverTheRawBodyAndStored) {
  testing::HttpClient admin("127.0.0.1", server_->port());
  admin.SetBearer(admin_);
  auto map = admin.Request(
      "POST", "/v1/mappings",
      fmt::format(R"({{"provider":"github","external_id":"*","product_id":"{}"}})", kProduct));
  ASSERT_TRUE(map);
  ASSERT_EQ(map->status, 201) << map->body;

  const std::string deploy = Payload("deployment_status.created.success.octokit-webhooks-examples.json");
  const std::string push = Payload("push.branch-1-commit.octokit-webhooks-examples.json");
  const std::string deploy_form = "payload=" + FormEncode(deploy);
  const std::string push_form = "payload=" + FormEncode(push);

  // Tampered after signing (success -> failure inside the encoded JSON): 400.
  std::string tampered = deploy_form;
  tampered.replace(tampered.find("success"), 7, "failure");
  EXPECT_EQ(DeliverForm("deployment_status", tampered, "f-1", deploy_form).status, 400);
  // A signature over the decoded JSON is not GitHub's: it signs the raw body.
  EXPECT_EQ(DeliverForm("deployment_status", deploy_form, "f-1", deploy).status, 400);
  EXPECT_EQ(Ops(), 0);
  EXPECT_TRUE(store_->ListParked(true)->empty());

  // Signed correctly: stored, three deliveries count once.
  for (int i = 0; i < 3; ++i) {
    auto r = DeliverForm("deployment_status", deploy_form, "f-1");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).at("accepted").as_int64(), i == 0 ? 1 : 0);
  }
  auto r = DeliverForm("push", push_form, "f-2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Ops(), 2);
  // The same events sent as JSON by another hook are the same events.
  EXPECT_EQ(Deliver("deployment_status", deploy, "j-1").status, 200);
  EXPECT_EQ(Deliver("push", push, "j-2").status, 200);
  EXPECT_EQ(Ops(), 2);
  auto stored = store_->Query("SELECT kind, status FROM ops_events ORDER BY kind");
  ASSERT_TRUE(stored) << stored.error().ToString();
  ASSERT_EQ(stored->rows.size(), 2u);
  EXPECT_EQ(stored->rows[0][0], store::SqlValue(std::string("deploy")));
  EXPECT_EQ(stored->rows[0][1], store::SqlValue(std::string("success")));
  EXPECT_EQ(stored->rows[1][0], store::SqlValue(std::string("push")));
}

}  // namespace
}  // namespace tally::ingest
