// The [alerts] section of the TOML config: settings, rules with overrides,
// notifiers; typos are errors naming the key.
#include <gtest/gtest.h>

#include <fstream>

#include "alerts/notifiers.h"
#include "alerts/rule_config.h"
#include "core/config.h"
#include "support/temp_dir.h"

namespace tally::alerts {
namespace {

core::Status Load(const std::string& text, core::Config* c) {
  testing::TempDir dir;
  std::string path = dir.str() + "/tally.toml";
  std::ofstream(path) << text;
  return core::LoadConfigFile(path, c);
}

TEST(AlertsConfigTest, ReadsRulesOverridesAndNotifiers) {
  core::Config c;
  auto s = Load(R"(
[alerts]
interval_seconds = 10
lease_seconds = 6
[alerts.rules.cost_velocity]
multiple = 4
floor_usd_per_min = "0.25"
[alerts.rules.cost_velocity.overrides.research-agent]
multiple = 6
pause = false
[alerts.rules.zero_revenue]
enabled = false
[alerts.webhook]
url = "https://hooks.slack.com/services/T/B/X"
[alerts.email]
smtp_url = "smtp://mail.example:587"
from = "tally@example.com"
to = ["ops@example.com"]
starttls = "required"
[alerts.whatsapp]
token = "EAAG"
phone_number_id = "1065"
to = "15551234567"
)",
                &c);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(c.alerts.interval_seconds, 10);
  EXPECT_EQ(c.alerts.lease_seconds, 6);
  auto rules = RuleSetFromConfig(c.alerts);
  ASSERT_TRUE(rules) << rules.error().ToString();
  const RuleConfig& v = rules->Rule("cost_velocity");
  EXPECT_EQ(v.Get("multiple"), 4);
  EXPECT_EQ(v.Get("multiple", "research-agent"), 6);
  EXPECT_EQ(v.Get("pause", "research-agent"), 0);
  EXPECT_EQ(v.Get("pause", "kev"), 1);
  EXPECT_EQ(v.Get("floor_usd_per_min"), 250'000);
  EXPECT_FALSE(rules->Rule("zero_revenue").Enabled());
  auto notifiers = NotifiersFromConfig(c.alerts);
  ASSERT_TRUE(notifiers) << notifiers.error().ToString();
  ASSERT_EQ(notifiers->size(), 3u);
  EXPECT_EQ((*notifiers)[0]->name(), "webhook");
  EXPECT_EQ((*notifiers)[1]->name(), "email");
  EXPECT_EQ((*notifiers)[2]->name(), "whatsapp");
}

TEST(AlertsConfigTest, TyposAndHalfConfiguredNotifiersAreErrors) {
  core::Config c;
  auto bad = Load("[alerts]\nintervall_seconds = 10\n", &c);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("alerts.intervall_seconds"), std::string::npos);
  EXPECT_FALSE(Load("[alerts.email]\nstarttls = \"maybe\"\n", &c));
  EXPECT_FALSE(Load("[alerts.webhook]\nurl = 3\n", &c));
  core::Config half;
  ASSERT_TRUE(Load("[alerts.email]\nsmtp_url = \"smtp://x:25\"\n", &half));
  auto n = NotifiersFromConfig(half.alerts);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("alerts.email.from"), std::string::npos);
}

}  // namespace
}  // namespace tally::alerts
