// The alert rules' settings: every rule's known settings with defaults
// (RuleSpecs), and the checked, parsed values of one configuration with
// per-subject overrides (RuleSet). docs/alerts.md lists them.
//
// Units after parsing: *_usd* settings are micro-USD, *_seconds / *_hours /
// *_days the number as written, percents as written (30 = 30%), booleans
// 1 or 0. Thread-safety: immutable after construction.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_alerts.h"
#include "core/result.h"

namespace tally::alerts {

enum class SettingKind { kNumber, kUsd, kBool };

struct SettingSpec {
  std::string name;
  std::string default_value;  // as it would be written in TOML
  SettingKind kind = SettingKind::kNumber;
};

struct RuleSpec {
  std::string name;
  std::string subjects;  // "agent", "product" or "product+factory": what overrides key on
  std::vector<SettingSpec> settings;  // besides "enabled", which every rule has
};

// Every rule, in evaluation order.
const std::vector<RuleSpec>& RuleSpecs();

class RuleConfig {
 public:
  // The value of `key` for `subject` (its override, else the rule's, else
  // the default). key must be a setting of the rule (a programming error
  // otherwise: returns 0).
  double Get(std::string_view key, std::string_view subject = "") const;
  bool Enabled(std::string_view subject = "") const { return Get("enabled", subject) != 0; }
  // The largest value of key over the rule and all overrides (the widest
  // window a read must cover).
  double Max(std::string_view key) const;

  std::map<std::string, double, std::less<>> values;
  std::map<std::string, std::map<std::string, double, std::less<>>, std::less<>> overrides;
};

struct RuleSet {
  std::map<std::string, RuleConfig, std::less<>> rules;  // every rule of RuleSpecs
  const RuleConfig& Rule(std::string_view name) const;
};

// Defaults overlaid with config.rules; invalid_argument naming the rule and
// setting for an unknown rule or setting or a value that does not parse.
core::Result<RuleSet> RuleSetFromConfig(const core::AlertsConfig& config);
inline RuleSet DefaultRuleSet() { return *RuleSetFromConfig({}); }

}  // namespace tally::alerts
