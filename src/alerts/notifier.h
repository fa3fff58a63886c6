// Notifier: one way of telling a human about an alert (webhook, email,
// WhatsApp). Send makes ONE attempt and reports the outcome; retries, backoff
// and never blocking the caller are the Dispatcher's job (dispatcher.h).
// Implementations: webhook_notifier.h, email_notifier.h, whatsapp_notifier.h.
// Thread-safety: Send is called from the dispatcher's single thread.
#pragma once

#include <string>

#include "core/result.h"
#include "store/alerts.h"

namespace tally::alerts {

struct Notification {
  enum class Kind { kFiring, kResolved };
  Kind kind = Kind::kFiring;
  store::AlertRecord alert;
};

// "[critical] research-agent burning $2.40/min, ...; paused at 14:32 UTC
// (alert 12, cost_velocity)" or "[resolved] ...": the one-line text every
// notifier sends.
std::string NotificationText(const Notification& n);

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;  // "webhook", "email", "whatsapp"
  // unavailable for a failure worth retrying (connection refused, 5xx, 429),
  // invalid_argument for one that is not (4xx: the request itself is wrong).
  virtual core::Status Send(const Notification& n) = 0;
};

}  // namespace tally::alerts
