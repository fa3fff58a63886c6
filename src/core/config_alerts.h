// Settings of the alerts subsystem (src/alerts, docs/alerts.md): the
// evaluation interval and leader lease, each rule's thresholds with
// per-agent / per-product overrides, and the notifiers. Part of core::Config,
// loaded from the [alerts] section of the TOML file:
//
//   [alerts]
//   interval_seconds = 30
//   [alerts.rules.cost_velocity]            # any rule of docs/alerts.md
//   multiple = 3
//   [alerts.rules.cost_velocity.overrides.research-agent]
//   multiple = 5
//   [alerts.webhook] / [alerts.email] / [alerts.whatsapp]
//
// Rule settings are kept as text here and checked against each rule's known
// settings by alerts::RuleSetFromConfig (core cannot know the rules), so a
// misspelt rule or setting still fails `tally serve` at start.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tally::core {

struct AlertRuleSettings {
  // Setting name -> value as text ("3", "0.10", "true").
  std::map<std::string, std::string> values;
  // Subject id (agent id or product id) -> settings that replace the rule's
  // for that subject only.
  std::map<std::string, std::map<std::string, std::string>> overrides;
};

struct AlertsConfig {
  // [alerts] enabled: evaluate rules in `tally serve`. Default true.
  bool enabled = true;
  // [alerts] interval_seconds: how often the leader evaluates every rule.
  // Shorter notices sooner and reads the store more often.
  std::int64_t interval_seconds = 30;
  // [alerts] lease_seconds: the leader's Redis lease. A dead leader is
  // replaced within it; shorter fails over faster but a GC-like stall longer
  // than it lets two nodes evaluate once (the alerts table still dedups).
  std::int64_t lease_seconds = 15;
  // [alerts] probe_interval_seconds / probe_timeout_ms: uptime probes of
  // products with metadata.health_url.
  std::int64_t probe_interval_seconds = 30;
  std::int64_t probe_timeout_ms = 5000;
  // [alerts] queue / max_attempts / backoff_ms: notification delivery. At
  // most `queue` notifications wait; each is tried max_attempts times with
  // exponential backoff starting at backoff_ms (doubling, capped at 60 s).
  std::int64_t queue = 1000;
  std::int64_t max_attempts = 5;
  std::int64_t backoff_ms = 1000;
  // [alerts] node_id: this node's name in the lease (default host:pid).
  std::string node_id;

  // [alerts.rules.<rule>] (see docs/alerts.md for each rule's settings).
  std::map<std::string, AlertRuleSettings> rules;

  // [alerts.webhook] url (+ optional header "Authorization" value
  // `authorization`): JSON POST with a Slack-compatible "text".
  std::string webhook_url;
  std::string webhook_authorization;
  // [alerts.email] smtp_url ("smtp://host:port" or "smtps://..."), from, to
  // (array), username, password, starttls ("try", "required" or "no").
  std::string email_smtp_url;
  std::string email_from;
  std::vector<std::string> email_to;
  std::string email_username;
  std::string email_password;
  std::string email_starttls = "try";
  // [alerts.whatsapp] token, phone_number_id, to (array of E.164 numbers),
  // api_version (default "v21.0"), base_url (default Meta's Graph API).
  std::string whatsapp_token;
  std::string whatsapp_phone_number_id;
  std::vector<std::string> whatsapp_to;
  std::string whatsapp_api_version = "v21.0";
  std::string whatsapp_base_url = "https://graph.facebook.com";
};

}  // namespace tally::core
