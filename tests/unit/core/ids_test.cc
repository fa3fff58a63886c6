// Identifiers: UUIDs, slugs, random tokens, hashes against published vectors.
#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace tally::core {
namespace {

TEST(IdsTest, IsUuidAcceptsTheCanonicalFormInEitherCase) {
  EXPECT_TRUE(IsUuid("0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
  EXPECT_TRUE(IsUuid("0B3E5F6A-1C2D-4E5F-8A9B-0C1D2E3F4A5B"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0b3e5f6a1c2d4e5f8a9b0c1d2e3f4a5b"));        // no hyphens
  EXPECT_FALSE(IsUuid("{0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b}"));  // braces
  EXPECT_FALSE(IsUuid("0b3e5f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5g"));    // g is not hex
  EXPECT_FALSE(IsUuid("0b3e5f6a-1c2d4-e5f-8a9b-0c1d2e3f4a5b"));    // hyphen moved
}

TEST(IdsTest, LowerAsciiOnlyTouchesAsciiLetters) {
  EXPECT_EQ(LowerAscii("0B3E5F6A-ABCD"), "0b3e5f6a-abcd");
  EXPECT_EQ(LowerAscii("\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");
}

TEST(IdsTest, SlugsAreLowercaseAndShort) {
  for (const char* good : {"kev", "write-content", "a", "gpt-4o", "x_1.2", "0day"}) EXPECT_TRUE(IsSlug(good)) << good;
  for (const char* bad : {"", "Kev", "-kev", ".kev", "a b", "kev!", "caf\xC3\xA9"}) EXPECT_FALSE(IsSlug(bad)) << bad;
  EXPECT_TRUE(IsSlug(std::string(64, 'a')));
  EXPECT_FALSE(IsSlug(std::string(65, 'a')));
  EXPECT_TRUE(IsAgentId("research-agent"));
}

TEST(IdsTest, NewUuidV4IsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = NewUuidV4();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_EQ(id, LowerAscii(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(IdsTest, UuidFromBitsIsDeterministicAndWellFormed) {
  EXPECT_EQ(UuidFromBits(0, 0), "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(UuidFromBits(~0ULL, ~0ULL), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  EXPECT_EQ(UuidFromBits(42, 7), UuidFromBits(42, 7));
  EXPECT_NE(UuidFromBits(42, 7), UuidFromBits(42, 8));
}

TEST(IdsTest, RandomHexHasTwoDigitsPerByte) {
  std::string a = RandomHex(16);
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, RandomHex(16));
  EXPECT_EQ(RandomHex(0), "");
}

TEST(IdsTest, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(IdsTest, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(IdsTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace tally::core
