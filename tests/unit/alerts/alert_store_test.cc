// The alerts table through the Store interface (SQLite): one firing alert per
// (rule, subject), resolve, acknowledge, silence carried to the next episode.
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace tally::store {
namespace {

using std::chrono::minutes;

AlertFilter State(const std::string& state) {
  AlertFilter f;
  f.state = state;
  return f;
}

core::Timestamp T(const char* s) { return *core::ParseRfc3339(s); }

AlertRecord Make(const std::string& rule, const std::string& subject, core::Timestamp at,
                 std::string message = "m") {
  AlertRecord a;
  a.rule = rule;
  a.subject = subject;
  a.severity = "warning";
  a.message = std::move(message);
  a.details = R"({"x":1})";
  a.fired_at = at;
  a.last_seen_at = at;
  return a;
}

class AlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(*SqliteStore::Open(dir_.str())); }
  tally::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(AlertStoreTest, OneFiringAlertPerRuleAndSubjectIsRefreshedNotDuplicated) {
  auto t0 = T("2026-03-10T14:00:00Z");
  auto first = store_->FireAlert(Make("error_rate", "agent:a", t0, "first"));
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->alert.state, "firing");
  auto again = store_->FireAlert(Make("error_rate", "agent:a", t0 + minutes(1), "second"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->alert.id, first->alert.id);
  EXPECT_EQ(again->alert.message, "second");
  EXPECT_EQ(again->alert.fired_at, t0);
  EXPECT_EQ(again->alert.last_seen_at, t0 + minutes(1));
  auto other = store_->FireAlert(Make("error_rate", "agent:b", t0));
  EXPECT_TRUE(other->created);
  EXPECT_EQ(store_->ListAlerts(State("firing"))->size(), 2u);
}

TEST_F(AlertStoreTest, ResolvedAlertLetsTheNextTripStartANewOne) {
  auto t0 = T("2026-03-10T14:00:00Z");
  auto first = *store_->FireAlert(Make("product_down", "product:p", t0));
  ASSERT_TRUE(store_->ResolveAlert(first.alert.id, t0 + minutes(3)));
  auto resolved = *store_->GetAlert(first.alert.id);
  EXPECT_EQ(resolved.state, "resolved");
  EXPECT_EQ(resolved.resolved_at, t0 + minutes(3));
  EXPECT_TRUE(store_->ResolveAlert(first.alert.id, t0 + minutes(4)));  // no-op
  EXPECT_EQ(store_->GetAlert(first.alert.id)->resolved_at, t0 + minutes(3));
  auto next = *store_->FireAlert(Make("product_down", "product:p", t0 + minutes(10)));
  EXPECT_TRUE(next.created);
  EXPECT_NE(next.alert.id, first.alert.id);
  EXPECT_EQ(store_->ListAlerts(State("resolved"))->size(), 1u);
  EXPECT_EQ(store_->ListAlerts(State(""))->size(), 2u);
  EXPECT_EQ(store_->ListAlerts(State(""))->front().id, next.alert.id);  // newest first
}

TEST_F(AlertStoreTest, AckAndSilenceAreRecordedAndAudited) {
  auto t0 = T("2026-03-10T14:00:00Z");
  auto a = *store_->FireAlert(Make("churn_spike", "factory", t0));
  ASSERT_TRUE(store_->AckAlert(a.alert.id, "key_1", t0 + minutes(1)));
  ASSERT_TRUE(store_->SilenceAlert(a.alert.id, t0 + minutes(60), "key_1", t0 + minutes(2)));
  auto got = *store_->GetAlert(a.alert.id);
  EXPECT_EQ(got.acked_at, t0 + minutes(1));
  EXPECT_EQ(got.acked_by, "key_1");
  EXPECT_EQ(got.silenced_until, t0 + minutes(60));
  auto audit = store_->Query("SELECT action, target FROM audit_log ORDER BY id");
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->rows.size(), 2u);
  EXPECT_EQ(std::get<std::string>(audit->rows[0][0]), "alert_ack");
  EXPECT_EQ(std::get<std::string>(audit->rows[1][1]), "alert:" + std::to_string(a.alert.id));
}

TEST_F(AlertStoreTest, SilenceCarriesOverToTheNextEpisodeUntilItEnds) {
  auto t0 = T("2026-03-10T14:00:00Z");
  auto a = *store_->FireAlert(Make("zero_revenue", "product:p", t0));
  ASSERT_TRUE(store_->SilenceAlert(a.alert.id, t0 + minutes(60), "cli", t0));
  ASSERT_TRUE(store_->ResolveAlert(a.alert.id, t0 + minutes(5)));
  auto b = *store_->FireAlert(Make("zero_revenue", "product:p", t0 + minutes(10)));
  EXPECT_EQ(b.alert.silenced_until, t0 + minutes(60));
  ASSERT_TRUE(store_->ResolveAlert(b.alert.id, t0 + minutes(20)));
  auto c = *store_->FireAlert(Make("zero_revenue", "product:p", t0 + minutes(61)));
  EXPECT_FALSE(c.alert.silenced_until);
}

TEST_F(AlertStoreTest, UnknownIdsAndBadFiltersAreErrors) {
  EXPECT_EQ(store_->GetAlert(42).error().code(), core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->AckAlert(42, "x", T("2026-03-10T14:00:00Z")).error().code(), core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->ResolveAlert(42, T("2026-03-10T14:00:00Z")).error().code(), core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListAlerts(State("open")).error().code(), core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tally::store
