// The Redis Streams agent event bus (src/ingest/bus) against a real
// redis-server: entry parsing; valid entries stored and acknowledged,
// malformed ones in the dead-letter stream with their reason; entries pending
// on a dead consumer taken over (XAUTOCLAIM); and the real tally binary
// SIGKILLed mid-stream and restarted as another consumer: every entry stored
// exactly once, none lost.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "ingest/bus/bus_consumer.h"
#include "ingest/bus/bus_entry.h"
#include "ingest/pipeline.h"
#include "live/redis/redis_connection.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/redis_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally::ingest::bus {
namespace {

namespace json = boost::json;
using live::redis::RedisConnection;

std::string TaskJson(int i, const char* status = "completed") {
  return fmt::format(
      R"({{"time":"2026-03-01T12:00:00Z","task_id":"00000000-0000-4000-8000-{:012d}","agent_id":"kev",)"
      R"("task_type":"build","status":"{}"}})",
      i, status);
}

// Waits (bounded) until pred holds; true when it did.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST(BusEntry, ParsesKindAndEventAndNamesWhatIsWrong) {
  auto prices = model::PriceTable::Defaults();
  BusEntry task{"1-0", {{"event", TaskJson(1)}}};
  auto e = ParseBusEntry(task, "s", prices);
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_EQ(model::KindOf(*e), model::EventKind::kTask);  // kind defaults to task_events
  EXPECT_EQ(model::EventIdOf(*e), "redis:s:1-0");

  BusEntry ops{"2-0", {{"kind", "ops_events"},
                       {"event", R"({"event_id":"d1","time":"2026-03-01T12:00:00Z","kind":"deploy",)"
                                 R"("source":"ci","status":"success"})"}}};
  auto o = ParseBusEntry(ops, "s", prices);
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(model::KindOf(*o), model::EventKind::kOps);
  EXPECT_EQ(model::EventIdOf(*o), "d1");  // the sender's id wins

  auto unknown = ParseBusEntry(BusEntry{"3-0", {{"kind", "tasks"}, {"event", "{}"}}}, "s", prices);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("'kind'"), std::string::npos);
  auto missing = ParseBusEntry(BusEntry{"4-0", {{"kind", "task_events"}}}, "s", prices);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("'event'"), std::string::npos);
  auto not_json = ParseBusEntry(BusEntry{"5-0", {{"event", "{oops"}}}, "s", prices);
  ASSERT_FALSE(not_json);
  auto invalid = ParseBusEntry(BusEntry{"6-0", {{"event", TaskJson(6, "done")}}}, "s", prices);
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().message().find("status"), std::string::npos) << invalid.error().message();
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_server_.Start());
    auto url = live::redis::ParseRedisUrl(redis_server_.url());
    ASSERT_TRUE(url);
    RedisConnection::Options o;
    o.url = *url;
    auto c = RedisConnection::Connect(o);
    ASSERT_TRUE(c) << c.error().ToString();
    redis_ = std::move(*c);
  }

  std::string Xadd(const std::string& stream, const std::vector<std::string>& fields) {
    std::vector<std::string> argv{"XADD", stream, "*"};
    argv.insert(argv.end(), fields.begin(), fields.end());
    auto r = redis_->Command(argv);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? std::string((*r)->str, (*r)->len) : "";
  }
  std::int64_t Int(const std::vector<std::string>& argv) {
    auto r = redis_->Command(argv);
    EXPECT_TRUE(r) << r.error().ToString();
    return r && (*r)->type == REDIS_REPLY_INTEGER ? (*r)->integer : -1;
  }
  // Entries of the group not yet acknowledged.
  std::int64_t Pending(const std::string& stream) {
    auto r = redis_->Command({"XPENDING", stream, "tally"});
    EXPECT_TRUE(r);
    return r && (*r)->elements > 0 ? (*r)->element[0]->integer : -1;
  }

  testing::RedisServer redis_server_;
  std::unique_ptr<RedisConnection> redis_;
};

TEST_F(BusTest, ValidEntriesStoredAndAckedMalformedOnesDeadLettered) {
  testing::TempDir dir;
  auto store = store::SqliteStore::Open(dir.str());
  ASSERT_TRUE(store);
  Pipeline pipeline(**store, {});
  auto prices = model::PriceTable::Defaults();
  std::mutex mu;
  std::map<std::string, std::int64_t> counts;
  for (int i = 0; i < 5; ++i) Xadd("factory", {"event", TaskJson(i)});
  Xadd("factory", {"kind", "task_events", "event", TaskJson(99, "finished")});
  Xadd("factory", {"kind", "no_such_table", "event", TaskJson(98)});
  Xadd("factory", {"kind", "llm_calls", "event", "[1, 2]"});

  BusOptions options{redis_server_.url(), "factory", "tally", "node-1", "", std::chrono::milliseconds(60'000),
                     std::chrono::milliseconds(100)};
  auto bus = BusConsumer::Start(options, pipeline, prices, [&](std::string_view outcome, std::int64_t n) {
    std::lock_guard lock(mu);
    counts[std::string(outcome)] += n;
  });
  ASSERT_TRUE(bus) << bus.error().ToString();
  EXPECT_TRUE(Eventually([&] { return Int({"XLEN", "factory:dead"}) == 3 && Pending("factory") == 0; }));
  EXPECT_EQ(*(*store)->CountEvents(model::EventKind::kTask), 5);
  (*bus)->Stop();
  pipeline.Stop();
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(counts["stored"], 5);
    EXPECT_EQ(counts["dead_letter"], 3);
  }
  // Each dead letter keeps the original fields and says why.
  auto dead = redis_->Command({"XRANGE", "factory:dead", "-", "+"});
  ASSERT_TRUE(dead);
  std::set<std::string> reasons;
  for (size_t i = 0; i < (*dead)->elements; ++i) {
    const redisReply* fields = (*dead)->element[i]->element[1];
    std::map<std::string, std::string> f;
    for (size_t k = 0; k + 1 < fields->elements; k += 2) {
      f[std::string(fields->element[k]->str)] = std::string(fields->element[k + 1]->str);
    }
    EXPECT_TRUE(f.contains("event"));
    EXPECT_FALSE(f["dead_letter_source_id"].empty());
    reasons.insert(f["dead_letter_reason"]);
  }
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_NE(reasons.begin()->find("entry "), std::string::npos);
}

TEST_F(BusTest, EntriesPendingOnADeadConsumerAreClaimedAndStoredOnce) {
  ASSERT_GE(Int({"XGROUP", "CREATE", "factory", "tally", "0", "MKSTREAM"}), -1);
  for (int i = 0; i < 20; ++i) Xadd("factory", {"event", TaskJson(i)});
  // "crashed" read them and died before acknowledging.
  ASSERT_TRUE(redis_->Command({"XREADGROUP", "GROUP", "tally", "crashed", "COUNT", "100", "STREAMS", "factory", ">"}));
  ASSERT_EQ(Pending("factory"), 20);

  testing::TempDir dir;
  auto store = store::SqliteStore::Open(dir.str());
  ASSERT_TRUE(store);
  Pipeline pipeline(**store, {});
  auto prices = model::PriceTable::Defaults();
  std::atomic<std::int64_t> claimed{0};
  BusOptions options{redis_server_.url(), "factory", "tally", "survivor", "", std::chrono::milliseconds(300),
                     std::chrono::milliseconds(100)};
  auto bus = BusConsumer::Start(options, pipeline, prices, [&](std::string_view outcome, std::int64_t n) {
    if (outcome == "claimed") claimed += n;
  });
  ASSERT_TRUE(bus) << bus.error().ToString();
  EXPECT_TRUE(Eventually([&] { return Pending("factory") == 0; }));
  (*bus)->Stop();
  pipeline.Stop();
  EXPECT_EQ(*(*store)->CountEvents(model::EventKind::kTask), 20);
  EXPECT_EQ(claimed.load(), 20);
}

// The real binary, killed while entries keep arriving, restarted under
// another consumer name: the new one reads what is new and takes over what
// the dead one left pending.
TEST_F(BusTest, TallyKilledMidStreamAndRestartedStoresEveryEntryExactlyOnce) {
  testing::TempDir dir;
  const std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "admin");
  ASSERT_TRUE(key) << key.error().ToString();
  auto write_config = [&](const std::string& consumer) {
    std::string path = dir.str() + "/" + consumer + ".toml";
    std::ofstream(path) << fmt::format(
        "[bus]\nredis_url = \"{}\"\nstream = \"factory\"\ngroup = \"tally\"\nconsumer = \"{}\"\n"
        "claim_idle_ms = 300\n",
        redis_server_.url(), consumer);
    return path;
  };
  auto count = [&](std::uint16_t port) -> std::int64_t {
    testing::HttpClient c("127.0.0.1", port);
    c.SetBearer(*key);
    auto r = c.Request("POST", "/v1/sql", R"({"sql":"SELECT count(*) FROM task_events"})");
    if (!r || r->status != 200) return -1;
    return json::parse(r->body).at("rows").at(0).at(0).to_number<std::int64_t>();
  };

  constexpr int kEntries = 4000;
  std::atomic<int> produced{0};
  std::atomic<bool> paused_producer{false};
  std::thread producer([&] {
    auto url = live::redis::ParseRedisUrl(redis_server_.url());
    RedisConnection::Options o;
    o.url = *url;
    auto c = RedisConnection::Connect(o);
    ASSERT_TRUE(c);
    while (produced < kEntries) {
      for (int k = 0; k < 20 && produced < kEntries; ++k) {
        int i = produced++;
        auto r = (*c)->Command({"XADD", "factory", "*", "kind", "task_events", "event", TaskJson(i)});
        ASSERT_TRUE(r) << r.error().ToString();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  auto first = std::make_unique<testing::ServerProcess>(TALLY_BINARY, data,
                                                        std::vector<std::string>{"--config", write_config("node-a")});
  ASSERT_TRUE(first->Start());
  // Kill it once it has stored some, while the producer is still going.
  ASSERT_TRUE(Eventually([&] { return count(first->port()) > 300; }));
  first->Kill(SIGKILL);
  const int at_kill = produced.load();
  EXPECT_LT(at_kill, kEntries) << "the producer should still be running when tally dies";

  testing::ServerProcess second(TALLY_BINARY, data, {"--config", write_config("node-b")});
  ASSERT_TRUE(second.Start());
  producer.join();
  // A malformed entry after the restart: dead-lettered and counted in /metrics.
  Xadd("factory", {"kind", "task_events", "event", "not json"});
  EXPECT_TRUE(Eventually([&] { return count(second.port()) == kEntries && Pending("factory") == 0; },
                         std::chrono::seconds(60)))
      << "stored " << count(second.port()) << " of " << kEntries << ", pending " << Pending("factory");
  EXPECT_EQ(Int({"XLEN", "factory:dead"}), 1);

  testing::HttpClient c("127.0.0.1", second.port());
  c.SetBearer(*key);
  auto ids = c.Request("POST", "/v1/sql",
                       R"({"sql":"SELECT count(DISTINCT task_id), count(*) FROM task_events","max_rows":10})");
  ASSERT_TRUE(ids);
  auto row = json::parse(ids->body).at("rows").at(0);
  EXPECT_EQ(row.at(0).to_number<std::int64_t>(), kEntries);  // none lost
  EXPECT_EQ(row.at(1).to_number<std::int64_t>(), kEntries);  // none twice
  auto metrics = c.Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("tally_bus_entries_total{outcome=\"dead_letter\"} 1"), std::string::npos)
      << metrics->body.substr(0, 2000);
  second.Kill(SIGTERM);
}

}  // namespace
}  // namespace tally::ingest::bus
