// User SQL on PostgreSQL runs as the NOLOGIN role tally_sql_reader
// (src/store/postgres/pg_sql_reader.cc): the test server's store role is a
// superuser, and a READ ONLY transaction alone would still let it call
// pg_read_file(); through Query that call is refused while ordinary reads of
// the event tables and the P&L view keep working.
#include <gtest/gtest.h>

#include <memory>

#include "store/postgres/pg_store.h"
#include "support/postgres_server.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

using PgSqlRoleTest = PgFreshStoreTest;

TEST_F(PgSqlRoleTest, StoreRoleIsASuperuserSoTheTestMeansSomething) {
  // Precondition of the next tests: without the reader role this superuser
  // could read server files.
  EXPECT_EQ(QueryScalar(*store_, "SELECT rolsuper::int FROM pg_roles WHERE rolname = session_user"),
            SqlValue(std::int64_t{1}));
}

TEST_F(PgSqlRoleTest, UserSqlRunsAsTheReaderRole) {
  EXPECT_EQ(QueryScalar(*store_, "SELECT current_user::text"), SqlValue(std::string("tally_sql_reader")));
}

TEST_F(PgSqlRoleTest, ReadingAServerFileIsRefused) {
  auto r = store_->Query("SELECT pg_read_file('/etc/hostname')");
  ASSERT_FALSE(r) << "pg_read_file returned " << r->rows.size() << " row(s)";
  EXPECT_EQ(r.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().ToString().find("permission denied"), std::string::npos) << r.error().ToString();
}

TEST_F(PgSqlRoleTest, EventTablesAndPnlViewAreStillReadable) {
  model::Product p;
  p.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  p.name = "Invoice Bot";
  p.type = "micro-saas";
  p.launched_at = At(0);
  p.revenue_model = "subscription";
  p.metadata = "{}";
  p.created_at = At(-1000);
  ASSERT_TRUE(store_->PutProduct(p));
  model::RevenueEvent e;
  e.event_id = "rev-1";
  e.time = At(1);
  e.product_id = p.id;
  e.event_type = model::RevenueEventType::kPayment;
  e.amount_usd = core::Money::FromMicros(19'990'000);
  e.currency = "USD";
  e.customer_id = "cus_1";
  e.metadata = "{}";
  ASSERT_TRUE(AppendOne(*store_, MakeBatch({MakeLlmCall("a"), MakeLlmCall("b"), e})));
  EXPECT_EQ(QueryScalar(*store_, "SELECT count(*) FROM llm_calls"), SqlValue(std::int64_t{2}));
  EXPECT_EQ(QueryScalar(*store_, "SELECT revenue::text FROM product_pnl_daily"),
            SqlValue(std::string("19.990000")));
}

TEST_F(PgSqlRoleTest, ReopeningMigratesAgainWithoutError) {
  // The role already exists (cluster-wide): a second open re-grants quietly.
  auto again = PostgresStore::Open(url_);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(QueryScalar(**again, "SELECT current_user::text"), SqlValue(std::string("tally_sql_reader")));
}

}  // namespace
}  // namespace tally::store
