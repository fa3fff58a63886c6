#include "ingest/csv_reader.h"

#include <gtest/gtest.h>

namespace tally::ingest {
namespace {

TEST(CsvReaderTest, TypesCellsByColumn) {
  auto items = ParseCsv(
      "time,agent_id,input_tokens,cost_usd,quality_score,metadata\n"
      "1772366400,kev,1200,0.012345,0.85,\"{\"\"k\"\": 1}\"\n");
  ASSERT_TRUE(items) << items.error().ToString();
  ASSERT_EQ(items->size(), 1u);
  const auto& o = (*items)[0].as_object();
  EXPECT_EQ(o.at("time").as_int64(), 1772366400);
  EXPECT_EQ(o.at("agent_id").as_string(), "kev");
  EXPECT_EQ(o.at("input_tokens").as_int64(), 1200);
  EXPECT_EQ(o.at("cost_usd").as_string(), "0.012345") << "money stays exact text";
  EXPECT_DOUBLE_EQ(o.at("quality_score").as_double(), 0.85);
  EXPECT_EQ(o.at("metadata").as_object().at("k").as_int64(), 1);
}

TEST(CsvReaderTest, EmptyCellsAreAbsentAndRfc3339TimesStayText) {
  auto items = ParseCsv("time,task_id,agent_id\r\n2026-03-01T12:00:00Z,,kev\r\n");
  ASSERT_TRUE(items);
  const auto& o = (*items)[0].as_object();
  EXPECT_FALSE(o.contains("task_id"));
  EXPECT_EQ(o.at("time").as_string(), "2026-03-01T12:00:00Z");
}

TEST(CsvReaderTest, QuotedCellsKeepCommasQuotesAndNewlines) {
  auto items = ParseCsv("a,b\n\"x, \"\"y\"\"\nz\",2\n");
  ASSERT_TRUE(items);
  EXPECT_EQ((*items)[0].as_object().at("a").as_string(), "x, \"y\"\nz");
}

TEST(CsvReaderTest, RaggedRowsAndOpenQuotesAreErrors) {
  auto ragged = ParseCsv("a,b\n1,2,3\n");
  ASSERT_FALSE(ragged);
  EXPECT_NE(ragged.error().message().find("row 2"), std::string::npos);
  auto open = ParseCsv("a,b\n\"1,2\n");
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace tally::ingest
