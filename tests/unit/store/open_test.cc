// store::RedactLocation: a store location as it may be printed (the
// `tally serve` startup line, `tally migrate`): passwords never appear.
#include <gtest/gtest.h>

#include "store/open.h"

namespace tally::store {
namespace {

TEST(RedactLocationTest, HidesThePasswordOfAPostgresUrl) {
  EXPECT_EQ(RedactLocation("postgresql://tally:s3cret@db.internal:5432/tally"),
            "postgresql://tally:***@db.internal:5432/tally");
  EXPECT_EQ(RedactLocation("postgres://u:p%40ss@h/db?sslmode=require"), "postgres://u:***@h/db?sslmode=require");
}

TEST(RedactLocationTest, HidesAPasswordQueryParameter) {
  EXPECT_EQ(RedactLocation("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
}

TEST(RedactLocationTest, KeepsUrlsWithoutPasswordAndDataFolders) {
  EXPECT_EQ(RedactLocation("postgresql://tally@localhost/tally"), "postgresql://tally@localhost/tally");
  EXPECT_EQ(RedactLocation("postgresql:///tally?host=/run/postgresql"), "postgresql:///tally?host=/run/postgresql");
  EXPECT_EQ(RedactLocation("./tally-data"), "./tally-data");
}

}  // namespace
}  // namespace tally::store
