#include "alerts/rule_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/money.h"

namespace tally::alerts {
namespace {

using K = SettingKind;

core::Result<double> ParseValue(const SettingSpec& spec, const std::string& text,
                                const std::string& where) {
  auto bad = [&](std::string_view want) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("{}: '{}' is not {}", where, text, want)));
  };
  switch (spec.kind) {
    case K::kBool:
      if (text == "true") return 1.0;
      if (text == "false") return 0.0;
      return bad("true or false");
    case K::kUsd: {
      auto m = core::Money::Parse(text);
      if (!m || m->micros() < 0) return bad("a non-negative USD amount");
      return static_cast<double>(m->micros());
    }
    case K::kNumber: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
        return bad("a non-negative number");
      }
      return v;
    }
  }
  return bad("valid");
}

const SettingSpec* FindSetting(const RuleSpec& rule, std::string_view name) {
  static const SettingSpec kEnabled{"enabled", "true", K::kBool};
  if (name == "enabled") return &kEnabled;
  for (const auto& s : rule.settings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

core::Result<std::map<std::string, double, std::less<>>> ParseTable(
    const RuleSpec& rule, const std::map<std::string, std::string>& values, const std::string& where) {
  std::map<std::string, double, std::less<>> out;
  for (const auto& [key, text] : values) {
    const SettingSpec* spec = FindSetting(rule, key);
    std::string name = fmt::format("{}.{}", where, key);
    if (spec == nullptr) {
      std::vector<std::string> known{"enabled"};
      for (const auto& s : rule.settings) known.push_back(s.name);
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "{}: unknown setting (known: {})", name, fmt::join(known, ", "))));
    }
    out[key] = TALLY_TRY(ParseValue(*spec, text, name));
  }
  return out;
}

}  // namespace

const std::vector<RuleSpec>& RuleSpecs() {
  static const std::vector<RuleSpec> kSpecs = {
      {"cost_velocity", "agent",
       {{"multiple", "3"}, {"floor_usd_per_min", "0.10", K::kUsd}, {"pause", "true", K::kBool}}},
      {"revenue_drop", "product+factory",
       {{"drop_percent", "30"}, {"min_previous_usd", "1", K::kUsd}}},
      {"error_rate", "agent",
       {{"percent", "10"}, {"window_seconds", "300"}, {"min_calls", "10"}}},
      {"product_down", "product", {{"down_seconds", "300"}}},
      {"churn_spike", "product+factory",
       {{"multiple", "2"}, {"baseline_days", "30"}, {"min_cancellations", "3"}}},
      {"budget_warning", "agent", {{"percent", "80"}}},
      {"budget_exhausted", "agent", {{"percent", "100"}, {"pause", "true", K::kBool}}},
      {"zero_revenue", "product", {{"hours", "48"}}},
  };
  return kSpecs;
}

double RuleConfig::Get(std::string_view key, std::string_view subject) const {
  if (!subject.empty()) {
    if (auto o = overrides.find(subject); o != overrides.end()) {
      if (auto v = o->second.find(key); v != o->second.end()) return v->second;
    }
  }
  if (auto v = values.find(key); v != values.end()) return v->second;
  return 0;
}

double RuleConfig::Max(std::string_view key) const {
  double m = Get(key);
  for (const auto& [subject, table] : overrides) {
    if (auto v = table.find(key); v != table.end()) m = std::max(m, v->second);
  }
  return m;
}

const RuleConfig& RuleSet::Rule(std::string_view name) const {
  static const RuleConfig kEmpty;
  auto it = rules.find(name);
  return it == rules.end() ? kEmpty : it->second;
}

core::Result<RuleSet> RuleSetFromConfig(const core::AlertsConfig& config) {
  RuleSet set;
  for (const auto& spec : RuleSpecs()) {
    RuleConfig& rule = set.rules[spec.name];
    rule.values["enabled"] = 1;
    for (const auto& s : spec.settings) {
      rule.values[s.name] = *ParseValue(s, s.default_value, spec.name);
    }
  }
  for (const auto& [name, settings] : config.rules) {
    auto spec = std::find_if(RuleSpecs().begin(), RuleSpecs().end(),
                             [&](const RuleSpec& s) { return s.name == name; });
    if (spec == RuleSpecs().end()) {
      std::vector<std::string> known;
      for (const auto& s : RuleSpecs()) known.push_back(s.name);
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "alerts.rules.{}: unknown rule (known: {})", name, fmt::join(known, ", "))));
    }
    RuleConfig& rule = set.rules[name];
    auto values = TALLY_TRY(ParseTable(*spec, settings.values, "alerts.rules." + name));
    for (auto& [k, v] : values) rule.values[k] = v;
    for (const auto& [subject, table] : settings.overrides) {
      rule.overrides[subject] = TALLY_TRY(
          ParseTable(*spec, table, fmt::format("alerts.rules.{}.overrides.{}", name, subject)));
    }
  }
  return set;
}

}  // namespace tally::alerts
