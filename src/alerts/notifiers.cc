#include "alerts/notifiers.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <curl/curl.h>
#include <fmt/format.h>

#include <cstring>
#include <random>

#include "alerts/curl_http.h"
#include "core/clock.h"

namespace tally::alerts {
namespace {

namespace json = boost::json;

json::object AlertJson(const Notification& n) {
  const auto& a = n.alert;
  json::value details;
  boost::system::error_code ec;
  details = json::parse(a.details, ec);
  if (ec) details = json::object{};
  return json::object{{"id", a.id},
                      {"rule", a.rule},
                      {"subject", a.subject},
                      {"severity", a.severity},
                      {"state", n.kind == Notification::Kind::kResolved ? "resolved" : "firing"},
                      {"message", a.message},
                      {"details", details},
                      {"fired_at", core::FormatRfc3339(a.fired_at)},
                      {"resolved_at", a.resolved_at ? json::value(core::FormatRfc3339(*a.resolved_at))
                                                    : json::value(nullptr)}};
}

// RFC 5322 date in UTC: "Tue, 10 Mar 2026 14:32:00 +0000".
std::string MailDate(core::Timestamp t) {
  std::time_t secs = static_cast<std::time_t>(core::ToMicros(t) / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct ReadState {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadPayload(char* ptr, size_t size, size_t nmemb, void* userp) {
  auto* s = static_cast<ReadState*>(userp);
  size_t n = std::min(size * nmemb, s->data->size() - s->offset);
  std::memcpy(ptr, s->data->data() + s->offset, n);
  s->offset += n;
  return n;
}

// Header values must stay on one line.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

}  // namespace

WebhookNotifier::WebhookNotifier(std::string url, std::string authorization,
                                 std::chrono::milliseconds timeout)
    : url_(std::move(url)), authorization_(std::move(authorization)), timeout_(timeout) {}

core::Status WebhookNotifier::Send(const Notification& n) {
  json::object body{{"text", NotificationText(n)}, {"alert", AlertJson(n)}};
  std::vector<std::string> headers{"Content-Type: application/json"};
  if (!authorization_.empty()) headers.push_back("Authorization: " + authorization_);
  auto r = TALLY_TRY(CurlRequest("POST", url_, headers, json::serialize(body), timeout_));
  return StatusFromHttp("webhook " + url_, r);
}

std::string EmailNotifier::Message(const Notification& n, const std::string& date,
                                   const std::string& message_id) const {
  std::string text = NotificationText(n);
  std::string body = fmt::format("{}\r\n\r\nRule: {}\r\nSubject: {}\r\nSeverity: {}\r\nFired: {}\r\n",
                                 text, n.alert.rule, n.alert.subject, n.alert.severity,
                                 core::FormatRfc3339(n.alert.fired_at));
  if (n.alert.resolved_at) body += "Resolved: " + core::FormatRfc3339(*n.alert.resolved_at) + "\r\n";
  body += "Numbers: " + n.alert.details + "\r\n";
  return fmt::format(
      "Date: {}\r\nFrom: {}\r\nTo: {}\r\nMessage-ID: {}\r\nSubject: [tally] {}\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n{}",
      date, options_.from, fmt::join(options_.to, ", "), message_id, OneLine(text), body);
}

core::Status EmailNotifier::Send(const Notification& n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string domain = options_.from.substr(options_.from.find('@') + 1);
  std::string id = fmt::format("<tally-alert-{}-{:016x}@{}>", n.alert.id, rng(), domain);
  std::string payload = Message(n, MailDate(core::SystemClock::Instance().Now()), id);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return std::unexpected(core::Error::Internal("curl_easy_init failed"));
  CURL* c = curl.get();
  curl_slist* rcpt = nullptr;
  for (const auto& to : options_.to) rcpt = curl_slist_append(rcpt, ("<" + to + ">").c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(rcpt, curl_slist_free_all);
  std::string from = "<" + options_.from + ">";
  ReadState state{&payload};
  curl_easy_setopt(c, CURLOPT_URL, options_.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadPayload);
  curl_easy_setopt(c, CURLOPT_READDATA, &state);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (options_.starttls == "required") curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  else if (options_.starttls == "try") curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return core::OkStatus();
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  std::string msg = fmt::format("email via {}: {} (SMTP {})", options_.smtp_url, curl_easy_strerror(rc), code);
  // 5xx SMTP replies are permanent (bad recipient, auth refused): no retry.
  if (code >= 500) return std::unexpected(core::Error::InvalidArgument(msg));
  return std::unexpected(core::Error::Unavailable(msg));
}

core::Status WhatsAppNotifier::Send(const Notification& n) {
  std::string url = fmt::format("{}/{}/{}/messages", options_.base_url, options_.api_version,
                                options_.phone_number_id);
  std::vector<std::string> headers{"Content-Type: application/json",
                                   "Authorization: Bearer " + options_.token};
  std::string text = NotificationText(n);
  for (const auto& to : options_.to) {
    json::object body{{"messaging_product", "whatsapp"},
                      {"recipient_type", "individual"},
                      {"to", to},
                      {"type", "text"},
                      {"text", json::object{{"preview_url", false}, {"body", text}}}};
    auto r = TALLY_TRY(CurlRequest("POST", url, headers, json::serialize(body), options_.timeout));
    TALLY_RETURN_IF_ERROR(StatusFromHttp("whatsapp " + to, r));
  }
  return core::OkStatus();
}

core::Result<std::vector<std::unique_ptr<Notifier>>> NotifiersFromConfig(const core::AlertsConfig& c) {
  std::vector<std::unique_ptr<Notifier>> out;
  auto missing = [](const char* setting) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("{} is required", setting)));
  };
  if (!c.webhook_url.empty()) {
    out.push_back(std::make_unique<WebhookNotifier>(c.webhook_url, c.webhook_authorization));
  }
  if (!c.email_smtp_url.empty()) {
    if (c.email_from.empty() || c.email_from.find('@') == std::string::npos) return missing("alerts.email.from (an address)");
    if (c.email_to.empty()) return missing("alerts.email.to");
    out.push_back(std::make_unique<EmailNotifier>(EmailOptions{c.email_smtp_url, c.email_from, c.email_to,
                                                               c.email_username, c.email_password,
                                                               c.email_starttls}));
  }
  if (!c.whatsapp_token.empty()) {
    if (c.whatsapp_phone_number_id.empty()) return missing("alerts.whatsapp.phone_number_id");
    if (c.whatsapp_to.empty()) return missing("alerts.whatsapp.to");
    out.push_back(std::make_unique<WhatsAppNotifier>(WhatsAppOptions{
        c.whatsapp_base_url, c.whatsapp_api_version, c.whatsapp_phone_number_id, c.whatsapp_token,
        c.whatsapp_to}));
  }
  return out;
}

}  // namespace tally::alerts
