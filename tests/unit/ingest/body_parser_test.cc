#include "ingest/body_parser.h"

#include <gtest/gtest.h>

namespace tally::ingest {
namespace {

TEST(BodyParserTest, ContentTypeSelectsNdjson) {
  EXPECT_EQ(BodyFormatFromContentType("application/x-ndjson"), BodyFormat::kNdjson);
  EXPECT_EQ(BodyFormatFromContentType("application/x-ndjson; charset=utf-8"), BodyFormat::kNdjson);
  EXPECT_EQ(BodyFormatFromContentType("application/json"), BodyFormat::kJson);
  EXPECT_EQ(BodyFormatFromContentType(""), BodyFormat::kJson);
}

TEST(BodyParserTest, SingleObjectIsOneItem) {
  auto items = ParseBody(R"({"a": 1})", BodyFormat::kJson);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].as_object().at("a").as_int64(), 1);
}

TEST(BodyParserTest, ArrayGivesEachElement) {
  auto items = ParseBody(R"([{"a": 1}, {"a": 2}, 3])", BodyFormat::kJson);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 3u);
  EXPECT_TRUE((*items)[2].is_int64());  // type errors are validation's to report, by index
}

TEST(BodyParserTest, NdjsonSkipsBlankLinesAndHandlesCrLf) {
  auto items = ParseBody("{\"a\":1}\r\n\n  \n{\"a\":2}", BodyFormat::kNdjson);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[1].as_object().at("a").as_int64(), 2);
}

TEST(BodyParserTest, NdjsonErrorNamesTheLine) {
  auto items = ParseBody("{\"a\":1}\n{\"a\":\n{\"a\":3}\n", BodyFormat::kNdjson);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(items.error().message().find("line 2"), std::string::npos) << items.error().message();
}

TEST(BodyParserTest, BadJsonAndEmptyBodiesAreRejected) {
  EXPECT_FALSE(ParseBody("{\"a\": }", BodyFormat::kJson));
  EXPECT_FALSE(ParseBody("", BodyFormat::kJson));
  auto empty = ParseBody("\n\n", BodyFormat::kNdjson);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("no events"), std::string::npos);
}

}  // namespace
}  // namespace tally::ingest
