// The notifiers against real receivers on loopback: the webhook and the
// WhatsApp Cloud API request against a local HTTP server, email against a
// real OpenSMTPD delivering to a maildir; and the dispatcher's retries with
// backoff, and that a dead notifier holds back no other.
#include "alerts/notifiers.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "alerts/dispatcher.h"
#include "support/http_receiver.h"
#include "support/smtp_server.h"

namespace tally::alerts {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

Notification Sample() {
  Notification n;
  n.alert.id = 12;
  n.alert.rule = "cost_velocity";
  n.alert.subject = "agent:research-agent";
  n.alert.severity = "critical";
  n.alert.state = "firing";
  n.alert.message = "research-agent burning $2.40/min, 4.1x its 1 h average; paused at 14:32 UTC";
  n.alert.details = R"({"velocity_usd_per_min":"2.40","ratio":4.1})";
  n.alert.fired_at = *core::ParseRfc3339("2026-03-10T14:32:00Z");
  n.alert.last_seen_at = n.alert.fired_at;
  return n;
}

constexpr const char* kText =
    "[critical] research-agent burning $2.40/min, 4.1x its 1 h average; paused at 14:32 UTC "
    "(alert 12, cost_velocity)";

TEST(WebhookNotifierTest, PostsJsonWithASlackCompatibleTextField) {
  testing::HttpReceiver receiver;
  receiver.Accept("POST", "/hooks/ops");
  receiver.Start();
  WebhookNotifier webhook(receiver.url() + "/hooks/ops", "Bearer s3cret");
  ASSERT_TRUE(webhook.Send(Sample()));
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_EQ(reqs[0].authorization, "Bearer s3cret");
  auto body = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(body.at("text").as_string(), kText);
  EXPECT_EQ(body.at("alert").at("rule").as_string(), "cost_velocity");
  EXPECT_EQ(body.at("alert").at("state").as_string(), "firing");
  EXPECT_EQ(body.at("alert").at("details").at("velocity_usd_per_min").as_string(), "2.40");
}

TEST(WebhookNotifierTest, ServerErrorsAreRetryableClientErrorsAreNot) {
  testing::HttpReceiver receiver;
  receiver.Accept("POST", "/hook");
  receiver.Start();
  WebhookNotifier webhook(receiver.url() + "/hook", "");
  receiver.SetStatuses({503});
  EXPECT_EQ(webhook.Send(Sample()).error().code(), core::ErrorCode::kUnavailable);
  receiver.SetStatuses({404});
  EXPECT_EQ(webhook.Send(Sample()).error().code(), core::ErrorCode::kInvalidArgument);
  WebhookNotifier nobody("http://127.0.0.1:1/hook", "", milliseconds(500));
  EXPECT_EQ(nobody.Send(Sample()).error().code(), core::ErrorCode::kUnavailable);
}

// Meta's documented request: POST /{Version}/{Phone-Number-ID}/messages with
// a Bearer token and a text message body
// (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).
TEST(WhatsAppNotifierTest, SendsTheCloudApiTextMessageToEveryRecipient) {
  testing::HttpReceiver receiver;
  receiver.Accept("POST", "/{version}/{phone}/messages");
  receiver.Start();
  WhatsAppNotifier wa({receiver.url(), "v21.0", "106540352242922", "EAAG-token", {"15551234567", "447700900123"}});
  ASSERT_TRUE(wa.Send(Sample()));
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(reqs[i].path, "/v21.0/106540352242922/messages");
    EXPECT_EQ(reqs[i].authorization, "Bearer EAAG-token");
    EXPECT_EQ(reqs[i].content_type, "application/json");
    auto body = json::parse(reqs[i].body).as_object();
    EXPECT_EQ(body.at("messaging_product").as_string(), "whatsapp");
    EXPECT_EQ(body.at("recipient_type").as_string(), "individual");
    EXPECT_EQ(body.at("type").as_string(), "text");
    EXPECT_EQ(body.at("text").at("body").as_string(), kText);
    EXPECT_FALSE(body.at("text").at("preview_url").as_bool());
  }
  EXPECT_EQ(json::parse(reqs[0].body).at("to").as_string(), "15551234567");
  EXPECT_EQ(json::parse(reqs[1].body).at("to").as_string(), "447700900123");
}

TEST(EmailNotifierTest, DeliversThroughARealSmtpServerToAMaildir) {
  if (auto why = testing::SmtpServer::WhyNotHere(); !why.empty()) GTEST_SKIP() << why;
  testing::SmtpServer smtp;
  auto started = smtp.Start();
  ASSERT_TRUE(started) << started.error().ToString();
  EmailOptions options;
  options.smtp_url = smtp.url();
  options.from = "tally@factory.example";
  options.to = {"ops@factory.example", "kev@factory.example"};
  options.starttls = "try";  // OpenSMTPD here offers none: plain SMTP
  EmailNotifier email(options);
  auto sent = email.Send(Sample());
  ASSERT_TRUE(sent) << sent.error().ToString();
  auto messages = smtp.WaitForMessages(2);
  ASSERT_EQ(messages.size(), 2u);  // one maildir copy per recipient
  const std::string& m = messages[0];
  EXPECT_NE(m.find("From: tally@factory.example"), std::string::npos) << m;
  EXPECT_NE(m.find("To: ops@factory.example, kev@factory.example"), std::string::npos) << m;
  EXPECT_NE(m.find(std::string("Subject: [tally] ") + kText), std::string::npos) << m;
  EXPECT_NE(m.find("Rule: cost_velocity"), std::string::npos) << m;
  EXPECT_NE(m.find("Delivered-To: "), std::string::npos) << m;  // written by the server
}

TEST(EmailNotifierTest, RequiredStartTlsFailsAgainstAServerWithoutIt) {
  if (auto why = testing::SmtpServer::WhyNotHere(); !why.empty()) GTEST_SKIP() << why;
  testing::SmtpServer smtp;
  auto started = smtp.Start();
  ASSERT_TRUE(started) << started.error().ToString();
  EmailOptions options;
  options.smtp_url = smtp.url();
  options.from = "tally@factory.example";
  options.to = {"ops@factory.example"};
  options.starttls = "required";
  EXPECT_FALSE(EmailNotifier(options).Send(Sample()));
}

class FlakyNotifier final : public Notifier {
 public:
  explicit FlakyNotifier(int failures, core::ErrorCode code = core::ErrorCode::kUnavailable)
      : failures_(failures), code_(code) {}
  std::string name() const override { return "flaky"; }
  core::Status Send(const Notification&) override {
    ++attempts;
    if (attempts <= failures_) return std::unexpected(core::Error(code_, "down"));
    return core::OkStatus();
  }
  std::atomic<int> attempts{0};

 private:
  const int failures_;
  const core::ErrorCode code_;
};

void WaitIdle(const Dispatcher& d) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!d.Idle() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
}

TEST(DispatcherTest, RetriesWithBackoffUntilDelivered) {
  auto flaky = std::make_unique<FlakyNotifier>(2);
  FlakyNotifier* f = flaky.get();
  std::vector<std::unique_ptr<Notifier>> list;
  list.push_back(std::move(flaky));
  Dispatcher d(std::move(list), {100, 5, milliseconds(20), milliseconds(1000)});
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(d.Enqueue(Sample()));
  WaitIdle(d);
  EXPECT_EQ(f->attempts.load(), 3);
  EXPECT_EQ(d.delivered(), 1);
  // Waited 20 ms, then 40 ms, between the attempts.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(60));
}

TEST(DispatcherTest, GivesUpAfterMaxAttemptsOrAtOnceOnAPermanentError) {
  auto down = std::make_unique<FlakyNotifier>(100);
  auto wrong = std::make_unique<FlakyNotifier>(100, core::ErrorCode::kInvalidArgument);
  FlakyNotifier* d1 = down.get();
  FlakyNotifier* d2 = wrong.get();
  std::vector<std::unique_ptr<Notifier>> list;
  list.push_back(std::move(down));
  list.push_back(std::move(wrong));
  Dispatcher d(std::move(list), {100, 3, milliseconds(1), milliseconds(5)});
  ASSERT_TRUE(d.Enqueue(Sample()));
  WaitIdle(d);
  EXPECT_EQ(d1->attempts.load(), 3);
  EXPECT_EQ(d2->attempts.load(), 1);
  EXPECT_EQ(d.failed(), 2);
}

TEST(DispatcherTest, ADeadWebhookDoesNotHoldBackAnotherNotifierNorTheCaller) {
  testing::HttpReceiver receiver;
  receiver.Accept("POST", "/hook");
  receiver.Start();
  std::vector<std::unique_ptr<Notifier>> list;
  list.push_back(std::make_unique<WebhookNotifier>("http://127.0.0.1:1/dead", "", milliseconds(200)));
  list.push_back(std::make_unique<WebhookNotifier>(receiver.url() + "/hook", ""));
  Dispatcher d(std::move(list), {100, 50, milliseconds(50), milliseconds(50)});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d.Enqueue(Sample()));  // never blocks
  EXPECT_TRUE(receiver.WaitFor(3));
}

TEST(DispatcherTest, AFullQueueDropsInsteadOfGrowing) {
  std::vector<std::unique_ptr<Notifier>> list;
  list.push_back(std::make_unique<FlakyNotifier>(1'000'000));
  Dispatcher d(std::move(list), {2, 1'000'000, milliseconds(10'000), milliseconds(10'000)});
  EXPECT_TRUE(d.Enqueue(Sample()));
  EXPECT_TRUE(d.Enqueue(Sample()));
  EXPECT_FALSE(d.Enqueue(Sample()));
  EXPECT_EQ(d.dropped(), 1);
}

}  // namespace
}  // namespace tally::alerts
