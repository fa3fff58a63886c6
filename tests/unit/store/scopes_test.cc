#include <gtest/gtest.h>

#include "store/store.h"

namespace tally::store {
namespace {

TEST(ScopesTest, FormatsInCanonicalOrder) {
  EXPECT_EQ(ScopesToString(kScopeRead | kScopeIngest), "ingest,read");
  EXPECT_EQ(ScopesToString(kScopeAdmin), "admin");
  EXPECT_EQ(ScopesToString(kScopeAdmin | kScopeRead | kScopeIngest), "ingest,read,admin");
  EXPECT_EQ(ScopesToString(0), "");
}

TEST(ScopesTest, ParsesCommaSeparatedNamesInAnyOrderWithSpaces) {
  EXPECT_EQ(ParseScopes("ingest,read").value(), kScopeIngest | kScopeRead);
  EXPECT_EQ(ParseScopes("admin, ingest").value(), kScopeAdmin | kScopeIngest);
  EXPECT_EQ(ParseScopes("read").value(), unsigned{kScopeRead});
  EXPECT_EQ(ParseScopes("read,read").value(), unsigned{kScopeRead});
}

TEST(ScopesTest, RoundTrips) {
  for (unsigned bits = 1; bits < 8; ++bits) {
    EXPECT_EQ(ParseScopes(ScopesToString(bits)).value(), bits);
  }
}

TEST(ScopesTest, RejectsUnknownAndEmptyNamesNamingThem) {
  auto bad = ParseScopes("ingest,write");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("'write'"), std::string::npos);
  EXPECT_FALSE(ParseScopes(""));
  EXPECT_FALSE(ParseScopes("ingest,"));
  EXPECT_FALSE(ParseScopes("Admin"));
}

}  // namespace
}  // namespace tally::store
