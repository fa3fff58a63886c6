// Parser of the [alerts] TOML section (config_alerts.h). Unknown keys are
// errors naming the key, as in the rest of the config.
#include <fmt/format.h>

#include "core/config_alerts_toml.h"

namespace tally::core {
namespace {

Error Bad(const std::string& path, const std::string& name, std::string_view want) {
  return Error::InvalidArgument(fmt::format("config {}: {} must be {}", path, name, want));
}

// A rule setting's value as text: strings as they are, numbers and booleans
// spelled out.
Result<std::string> ScalarText(const std::string& path, const std::string& name,
                               const toml::node& node) {
  if (auto v = node.value<std::string>()) return *v;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  if (auto v = node.value<bool>()) return std::string(*v ? "true" : "false");
  return std::unexpected(Bad(path, name, "a string, a number or a boolean"));
}

Result<std::map<std::string, std::string>> ScalarTable(const std::string& path,
                                                       const std::string& prefix,
                                                       const toml::table& table,
                                                       bool allow_overrides,
                                                       AlertRuleSettings* rule) {
  std::map<std::string, std::string> out;
  for (auto&& [key, node] : table) {
    std::string k(key.str());
    std::string name = prefix + "." + k;
    if (allow_overrides && k == "overrides") {
      const toml::table* subjects = node.as_table();
      if (subjects == nullptr) return std::unexpected(Bad(path, name, "a table of subjects"));
      for (auto&& [subject, sub_node] : *subjects) {
        const toml::table* sub = sub_node.as_table();
        std::string sub_name = name + "." + std::string(subject.str());
        if (sub == nullptr) return std::unexpected(Bad(path, sub_name, "a table"));
        rule->overrides[std::string(subject.str())] =
            TALLY_TRY(ScalarTable(path, sub_name, *sub, false, nullptr));
      }
      continue;
    }
    out[k] = TALLY_TRY(ScalarText(path, name, node));
  }
  return out;
}

Result<std::vector<std::string>> StringList(const std::string& path, const std::string& name,
                                            const toml::node& node) {
  std::vector<std::string> out;
  if (auto v = node.value<std::string>()) {
    out.push_back(*v);
    return out;
  }
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return std::unexpected(Bad(path, name, "a string or an array of strings"));
  for (auto&& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) return std::unexpected(Bad(path, name, "an array of strings"));
    out.push_back(*v);
  }
  return out;
}

}  // namespace

Status LoadAlertsSection(const std::string& path, const toml::table& section, AlertsConfig* config) {
  for (auto&& [key, node] : section) {
    std::string k(key.str());
    std::string name = "alerts." + k;
    auto num = [&](std::int64_t* out) -> Status {
      if (auto v = node.value<std::int64_t>(); v && *v > 0) {
        *out = *v;
        return OkStatus();
      }
      return std::unexpected(Bad(path, name, "a positive integer"));
    };
    if (k == "enabled") {
      auto v = node.value<bool>();
      if (!v) return std::unexpected(Bad(path, name, "true or false"));
      config->enabled = *v;
    } else if (k == "interval_seconds") {
      TALLY_RETURN_IF_ERROR(num(&config->interval_seconds));
    } else if (k == "lease_seconds") {
      TALLY_RETURN_IF_ERROR(num(&config->lease_seconds));
    } else if (k == "probe_interval_seconds") {
      TALLY_RETURN_IF_ERROR(num(&config->probe_interval_seconds));
    } else if (k == "probe_timeout_ms") {
      TALLY_RETURN_IF_ERROR(num(&config->probe_timeout_ms));
    } else if (k == "queue") {
      TALLY_RETURN_IF_ERROR(num(&config->queue));
    } else if (k == "max_attempts") {
      TALLY_RETURN_IF_ERROR(num(&config->max_attempts));
    } else if (k == "backoff_ms") {
      TALLY_RETURN_IF_ERROR(num(&config->backoff_ms));
    } else if (k == "node_id") {
      auto v = node.value<std::string>();
      if (!v) return std::unexpected(Bad(path, name, "a string"));
      config->node_id = *v;
    } else if (k == "rules") {
      const toml::table* rules = node.as_table();
      if (rules == nullptr) return std::unexpected(Bad(path, name, "a table of rules"));
      for (auto&& [rule_key, rule_node] : *rules) {
        std::string rule_name = name + "." + std::string(rule_key.str());
        const toml::table* rule = rule_node.as_table();
        if (rule == nullptr) return std::unexpected(Bad(path, rule_name, "a table"));
        AlertRuleSettings& settings = config->rules[std::string(rule_key.str())];
        settings.values = TALLY_TRY(ScalarTable(path, rule_name, *rule, true, &settings));
      }
    } else if (k == "webhook" || k == "email" || k == "whatsapp") {
      const toml::table* t = node.as_table();
      if (t == nullptr) return std::unexpected(Bad(path, name, "a table"));
      for (auto&& [field_key, field] : *t) {
        std::string f(field_key.str());
        std::string fname = name + "." + f;
        auto str = [&](std::string* out) -> Status {
          if (auto v = field.value<std::string>()) {
            *out = *v;
            return OkStatus();
          }
          return std::unexpected(Bad(path, fname, "a string"));
        };
        Status s;
        if (k == "webhook" && f == "url") s = str(&config->webhook_url);
        else if (k == "webhook" && f == "authorization") s = str(&config->webhook_authorization);
        else if (k == "email" && f == "smtp_url") s = str(&config->email_smtp_url);
        else if (k == "email" && f == "from") s = str(&config->email_from);
        else if (k == "email" && f == "to") config->email_to = TALLY_TRY(StringList(path, fname, field));
        else if (k == "email" && f == "username") s = str(&config->email_username);
        else if (k == "email" && f == "password") s = str(&config->email_password);
        else if (k == "email" && f == "starttls") s = str(&config->email_starttls);
        else if (k == "whatsapp" && f == "token") s = str(&config->whatsapp_token);
        else if (k == "whatsapp" && f == "phone_number_id") s = str(&config->whatsapp_phone_number_id);
        else if (k == "whatsapp" && f == "to") config->whatsapp_to = TALLY_TRY(StringList(path, fname, field));
        else if (k == "whatsapp" && f == "api_version") s = str(&config->whatsapp_api_version);
        else if (k == "whatsapp" && f == "base_url") s = str(&config->whatsapp_base_url);
        else return std::unexpected(Error::InvalidArgument(fmt::format("config {}: unknown key '{}'", path, fname)));
        if (!s) return s;
      }
    } else {
      return std::unexpected(Error::InvalidArgument(fmt::format("config {}: unknown key '{}'", path, name)));
    }
  }
  if (config->email_starttls != "try" && config->email_starttls != "required" &&
      config->email_starttls != "no") {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "config {}: alerts.email.starttls '{}' is not one of try, required, no", path,
        config->email_starttls)));
  }
  return OkStatus();
}

}  // namespace tally::core
