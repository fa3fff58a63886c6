// The notifiers (notifier.h): a generic webhook, email over SMTP, and a
// WhatsApp Cloud API text message. Each makes one attempt per Send, with a
// hard timeout, over libcurl.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alerts/notifier.h"
#include "core/config_alerts.h"

namespace tally::alerts {

// POST <url> with a JSON body: {"text": <NotificationText>, "alert": {...}}.
// "text" is what Slack's incoming webhooks (and Mattermost, Discord's
// /slack endpoint) display; "alert" carries the record for machines.
class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(std::string url, std::string authorization,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string name() const override { return "webhook"; }
  core::Status Send(const Notification& n) override;

 private:
  const std::string url_, authorization_;
  const std::chrono::milliseconds timeout_;
};

// One email per notification to every recipient, over SMTP with libcurl:
// smtp://host:port (STARTTLS per `starttls`: "try" uses it when offered,
// "required" fails without it, "no" never), or smtps:// (TLS from the
// start). AUTH only when username is set. Subject: "[tally] <text>".
struct EmailOptions {
  std::string smtp_url;
  std::string from;
  std::vector<std::string> to;
  std::string username, password;
  std::string starttls = "try";
  std::chrono::milliseconds timeout{15'000};
};
class EmailNotifier final : public Notifier {
 public:
  explicit EmailNotifier(EmailOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "email"; }
  core::Status Send(const Notification& n) override;
  // The RFC 5322 message sent for n (headers + body, CRLF line ends).
  std::string Message(const Notification& n, const std::string& date, const std::string& message_id) const;

 private:
  const EmailOptions options_;
};

// Meta's WhatsApp Cloud API: for every recipient,
//   POST <base_url>/<api_version>/<phone_number_id>/messages
//   Authorization: Bearer <token>
//   {"messaging_product": "whatsapp", "recipient_type": "individual",
//    "to": "<E.164 digits>", "type": "text",
//    "text": {"preview_url": false, "body": <NotificationText>}}
// (Outside a 24 h customer-service window Meta only delivers template
// messages; docs/alerts.md says how to set that up.)
struct WhatsAppOptions {
  std::string base_url = "https://graph.facebook.com";
  std::string api_version = "v21.0";
  std::string phone_number_id;
  std::string token;
  std::vector<std::string> to;
  std::chrono::milliseconds timeout{10'000};
};
class WhatsAppNotifier final : public Notifier {
 public:
  explicit WhatsAppNotifier(WhatsAppOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "whatsapp"; }
  core::Status Send(const Notification& n) override;

 private:
  const WhatsAppOptions options_;
};

// Every notifier the [alerts] config sets up (webhook url, email smtp_url,
// whatsapp token); invalid_argument naming the setting when one is half
// configured (an email without from/to, WhatsApp without phone_number_id).
core::Result<std::vector<std::unique_ptr<Notifier>>> NotifiersFromConfig(const core::AlertsConfig& c);

}  // namespace tally::alerts
