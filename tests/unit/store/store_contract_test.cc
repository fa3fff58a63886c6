// The Store contract (src/store/store.h), run against every backend. Tests use
// only the Store interface; each backend contributes a factory below.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include <boost/json.hpp>

#include "core/ids.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders
using core::ErrorCode;
using model::EventKind;

struct StoreBackend {
  std::string name;
  // Opens (creating on first use) the store kept at `location`, a fresh
  // folder per test; opening the same location again must see the same data.
  std::function<Result<std::unique_ptr<Store>>(const std::string& location)> open;
  // Reads a column in tally's units (docs/schema.md): `kind` is 't' (time as
  // integer microseconds), 'm' (money as integer micro-USD) or 'c' (integer
  // hundredths). SQLite stores these units; PostgreSQL stores the seed's
  // TIMESTAMPTZ and NUMERIC USD and converts.
  std::function<std::string(char kind, const std::string& column)> unit =
      [](char, const std::string& column) { return column; };
};

// JSON text in a canonical form, so stores that normalize JSON (JSONB) and
// stores that keep the text compare equal on the same document.
SqlValue NormJson(const SqlValue& v) {
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return v;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(*s, ec);
  if (ec) return v;
  return boost::json::serialize(parsed);
}
std::string NormJson(const std::string& s) { return std::get<std::string>(NormJson(SqlValue(s))); }

class StoreContractTest : public ReopenableStoreTest<StoreBackend> {
 protected:
  // SQL with "{t:col}", "{m:col}", "{c:col}" read in tally's units (see
  // StoreBackend::unit).
  std::string Sql(const std::string& sql) {
    static const std::regex kUnit(R"(\{([tmc]):(\w+)\})");
    std::string out;
    auto begin = std::sregex_iterator(sql.begin(), sql.end(), kUnit);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += sql.substr(last, static_cast<size_t>(it->position()) - last);
      out += GetParam().unit((*it)[1].str()[0], (*it)[2].str());
      last = static_cast<size_t>(it->position() + it->length());
    }
    return out + sql.substr(last);
  }

  std::int64_t Count(EventKind kind) {
    auto n = store().CountEvents(kind);
    EXPECT_TRUE(n) << n.error().ToString();
    return n.value_or(-1);
  }
};

// --- Migrations --------------------------------------------------------------

TEST_P(StoreContractTest, MigrateIsIdempotentAndReopenKeepsData) {
  ASSERT_TRUE(store().Migrate());
  ASSERT_TRUE(store().Migrate());
  auto batch = MakeBatch({MakeLlmCall("a")});
  ASSERT_TRUE(AppendOne(store(), batch));
  Reopen();
  ASSERT_TRUE(store().Migrate());
  EXPECT_EQ(Count(EventKind::kLlmCall), 1);
}

// --- Append ------------------------------------------------------------------

TEST_P(StoreContractTest, AppendCountsAcceptedAndDuplicatesPerBatch) {
  auto first = MakeBatch({MakeLlmCall("a"), MakeLlmCall("b"), MakeLlmCall("a")});
  auto second = MakeBatch({MakeLlmCall("b"), MakeLlmCall("c")});
  auto stats = AppendAll(store(), {&first, &second});
  ASSERT_TRUE(stats) << stats.error().ToString();
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ((*stats)[0].accepted, 2);
  EXPECT_EQ((*stats)[0].duplicates, 1);  // "a" repeated within the batch
  EXPECT_EQ((*stats)[1].accepted, 1);
  EXPECT_EQ((*stats)[1].duplicates, 1);  // "b" from the first batch of the same call
  EXPECT_EQ(Count(EventKind::kLlmCall), 3);
}

TEST_P(StoreContractTest, AppendCountsEventsStoredByEarlierCallsAsDuplicates) {
  auto batch = MakeBatch({MakeLlmCall("a"), MakeLlmCall("b")});
  ASSERT_TRUE(AppendOne(store(), batch));
  auto again = MakeBatch({MakeLlmCall("a", /*cost_micros=*/999), MakeLlmCall("c")});
  auto stats = AppendOne(store(), again);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
  EXPECT_EQ((*stats)[0].duplicates, 1);
  // The first write wins: the duplicate did not overwrite anything.
  EXPECT_EQ(QueryScalar(store(), Sql("SELECT {m:cost_usd} FROM llm_calls WHERE event_id = 'a'")),
            SqlValue(std::int64_t{1'234}));
}

TEST_P(StoreContractTest, EventIdsAreUniquePerTableNotAcrossTables) {
  auto batch = MakeBatch({MakeLlmCall("same"), MakeTask("same")});
  auto stats = AppendOne(store(), batch);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 2);
  EXPECT_TRUE(store().HasEvent(EventKind::kLlmCall, "same").value());
  EXPECT_TRUE(store().HasEvent(EventKind::kTask, "same").value());
  EXPECT_FALSE(store().HasEvent(EventKind::kRevenue, "same").value());
}

TEST_P(StoreContractTest, AppendOfNothingSucceeds) {
  auto stats = AppendAll(store(), {});
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->empty());
  auto empty = MakeBatch({});
  stats = AppendOne(store(), empty);
  ASSERT_TRUE(stats);
  EXPECT_EQ((*stats)[0].accepted, 0);
}

TEST_P(StoreContractTest, FailedAppendStoresNothingOfAnyBatch) {
  auto good = MakeBatch({MakeLlmCall("ok-1"), MakeTask("task-1")});
  // A negative LLM cost breaks a constraint of the llm_calls table; it sits
  // after valid events of the same call, which must be rolled back with it.
  auto bad = MakeBatch({MakeLlmCall("ok-2"), MakeLlmCall("negative", /*cost_micros=*/-1)});
  auto stats = AppendAll(store(), {&good, &bad});
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument) << stats.error().ToString();
  EXPECT_NE(stats.error().message().find("llm_calls"), std::string::npos);
  EXPECT_NE(stats.error().message().find("negative"), std::string::npos);
  EXPECT_EQ(Count(EventKind::kLlmCall), 0);
  EXPECT_EQ(Count(EventKind::kTask), 0);

  // The store is usable afterwards, and the rolled-back ids are not duplicates.
  stats = AppendOne(store(), good);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 2);
}

TEST_P(StoreContractTest, AppendedEventsSurviveReopen) {
  std::vector<model::Event> events;
  for (int i = 0; i < 500; ++i) events.push_back(MakeLlmCall("e" + std::to_string(i)));
  auto batch = MakeBatch(std::move(events));
  ASSERT_TRUE(AppendOne(store(), batch));
  Reopen();
  EXPECT_EQ(Count(EventKind::kLlmCall), 500);
  EXPECT_TRUE(store().HasEvent(EventKind::kLlmCall, "e499").value());
  EXPECT_FALSE(store().HasEvent(EventKind::kLlmCall, "e500").value());
}

// --- Round trips of every event kind --------------------------------------------
// Columns are read back through Query in the backend's stored units
// (docs/schema.md): times as integer microseconds, money as integer micro-USD.

TEST_P(StoreContractTest, LlmCallRoundTrips) {
  model::LlmCall e = MakeLlmCall("llm-1", /*cost_micros=*/12'345'678, /*offset_us=*/123'456);
  e.task_id = "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b";
  e.cached_tokens = 300;
  e.status = model::LlmStatus::kRateLimited;
  e.error_type = "429";
  e.reservation_id = "res-9";
  e.metadata = R"({"k":"v"})";
  model::LlmCall bare = MakeLlmCall("llm-2");
  auto batch = MakeBatch({e, bare});
  ASSERT_TRUE(AppendOne(store(), batch));

  auto r = store().Query(Sql(
      "SELECT event_id, {t:time}, agent_id, task_id, model, provider, input_tokens, output_tokens, "
      "cached_tokens, {m:cost_usd}, latency_ms, status, error_type, reservation_id, metadata "
      "FROM llm_calls ORDER BY event_id"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->columns[9], "cost_usd");
  std::vector<SqlValue> want = {std::string("llm-1"),
                                std::int64_t{kBaseMicros + 123'456},
                                std::string("kev"),
                                std::string("8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b"),
                                std::string("claude-opus-4-6"),
                                std::string("anthropic"),
                                std::int64_t{1000},
                                std::int64_t{200},
                                std::int64_t{300},
                                std::int64_t{12'345'678},
                                std::int64_t{850},
                                std::string("rate_limited"),
                                std::string("429"),
                                std::string("res-9"),
                                std::string(R"({"k":"v"})")};
  r->rows[0][14] = NormJson(r->rows[0][14]);
  EXPECT_EQ(r->rows[0], want);
  // Absent optionals and empty metadata are NULL.
  EXPECT_EQ(r->rows[1][3], SqlValue(nullptr));
  EXPECT_EQ(r->rows[1][11], SqlValue(std::string("success")));
  EXPECT_EQ(r->rows[1][12], SqlValue(nullptr));
  EXPECT_EQ(r->rows[1][13], SqlValue(nullptr));
  EXPECT_EQ(r->rows[1][14], SqlValue(nullptr));
}

TEST_P(StoreContractTest, RevenueEventRoundTripsWithNegativeRefund) {
  model::RevenueEvent e;
  e.event_id = "rev-1";
  e.time = At(1);
  e.product_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  e.channel_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  e.event_type = model::RevenueEventType::kRefund;
  e.amount_usd = core::Money::FromMicros(-19'990'000);
  e.currency = "EUR";
  e.customer_id = "cus_1";
  e.metadata = "{}";
  auto batch = MakeBatch({e});
  ASSERT_TRUE(AppendOne(store(), batch));
  auto r = store().Query(Sql(
      "SELECT event_id, {t:time}, product_id, channel_id, event_type, {m:amount_usd}, currency, "
      "customer_id, metadata FROM revenue_events"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  std::vector<SqlValue> want = {std::string("rev-1"),
                                std::int64_t{kBaseMicros + 1},
                                std::string("0f8fad5b-d9cb-469f-a165-70867728950e"),
                                std::string("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                                std::string("refund"),
                                std::int64_t{-19'990'000},
                                std::string("EUR"),
                                std::string("cus_1"),
                                std::string("{}")};
  EXPECT_EQ(r->rows[0], want);
}

TEST_P(StoreContractTest, TaskEventRoundTrips) {
  model::TaskEvent e = MakeTask("task-1");
  e.product_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  e.status = model::TaskStatus::kEscalated;
  e.duration_ms = 60'000;
  e.total_cost_usd = core::Money::FromMicros(4'500'100);
  e.steps_count = 17;
  e.quality_score_centi = 87;
  model::TaskEvent bare = MakeTask("task-2");
  auto batch = MakeBatch({e, bare});
  ASSERT_TRUE(AppendOne(store(), batch));
  auto r = store().Query(Sql(
      "SELECT event_id, {t:time}, task_id, agent_id, product_id, task_type, status, duration_ms, "
      "{m:total_cost_usd}, steps_count, {c:quality_score}, metadata FROM task_events "
      "ORDER BY event_id"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  std::vector<SqlValue> want = {std::string("task-1"),
                                std::int64_t{kBaseMicros},
                                std::string("8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b"),
                                std::string("kev"),
                                std::string("0f8fad5b-d9cb-469f-a165-70867728950e"),
                                std::string("build"),
                                std::string("escalated"),
                                std::int64_t{60'000},
                                std::int64_t{4'500'100},
                                std::int64_t{17},
                                std::int64_t{87},
                                nullptr};
  EXPECT_EQ(r->rows[0], want);
  std::vector<SqlValue> want_bare = {std::string("task-2"),
                                     std::int64_t{kBaseMicros},
                                     std::string("8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b"),
                                     std::string("kev"),
                                     nullptr,
                                     std::string("build"),
                                     std::string("started"),
                                     nullptr,
                                     nullptr,
                                     nullptr,
                                     nullptr,
                                     nullptr};
  EXPECT_EQ(r->rows[1], want_bare);
}

TEST_P(StoreContractTest, InfraCostRoundTripsWithSharedProduct) {
  model::InfraCost e;
  e.event_id = "infra-1";
  e.time = At(-5);
  e.cost_type = "hosting";
  e.provider = "hetzner";
  e.amount_usd = core::Money::FromMicros(4'510'000);
  e.billing_period = "2026-03";
  auto batch = MakeBatch({e});
  ASSERT_TRUE(AppendOne(store(), batch));
  auto r = store().Query(Sql(
      "SELECT event_id, {t:time}, product_id, cost_type, provider, {m:amount_usd}, billing_period, "
      "metadata FROM infra_costs"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  std::vector<SqlValue> want = {std::string("infra-1"),
                                std::int64_t{kBaseMicros - 5},
                                nullptr,
                                std::string("hosting"),
                                std::string("hetzner"),
                                std::int64_t{4'510'000},
                                std::string("2026-03"),
                                nullptr};
  EXPECT_EQ(r->rows[0], want);
}

TEST_P(StoreContractTest, GrowthEventRoundTripsValueInHundredths) {
  model::GrowthEvent e;
  e.event_id = "growth-1";
  e.time = At(0);
  e.product_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  e.channel = "reddit";
  e.metric = "signup";
  e.value_centi = 250;  // 2.50
  e.metadata = R"({"post":"x"})";
  auto batch = MakeBatch({e});
  ASSERT_TRUE(AppendOne(store(), batch));
  auto r = store().Query(Sql(
      "SELECT event_id, {t:time}, product_id, channel, metric, {c:value}, metadata "
      "FROM growth_events"));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  std::vector<SqlValue> want = {std::string("growth-1"),
                                std::int64_t{kBaseMicros},
                                std::string("0f8fad5b-d9cb-469f-a165-70867728950e"),
                                std::string("reddit"),
                                std::string("signup"),
                                std::int64_t{250},
                                std::string(R"({"post":"x"})")};
  r->rows[0][6] = NormJson(r->rows[0][6]);
  EXPECT_EQ(r->rows[0], want);
}

TEST_P(StoreContractTest, CountEventsCountsPerKind) {
  model::GrowthEvent g;
  g.event_id = "g";
  g.product_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  g.channel = "organic";
  g.metric = "pageview";
  auto batch = MakeBatch({MakeLlmCall("a"), MakeLlmCall("b"), MakeTask("t"), g});
  ASSERT_TRUE(AppendOne(store(), batch));
  EXPECT_EQ(Count(EventKind::kLlmCall), 2);
  EXPECT_EQ(Count(EventKind::kTask), 1);
  EXPECT_EQ(Count(EventKind::kGrowth), 1);
  EXPECT_EQ(Count(EventKind::kRevenue), 0);
  EXPECT_EQ(Count(EventKind::kInfraCost), 0);
}

// --- Entities ----------------------------------------------------------------

TEST_P(StoreContractTest, ProductsPutGetListAndReplace) {
  model::Product p;
  p.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  p.name = "Invoice Bot";
  p.type = "micro-saas";
  p.launched_at = At(0);
  p.revenue_model = "subscription";
  p.monthly_cost = core::Money::FromMicros(12'500'000);
  p.metadata = R"({"url":"https://x"})";
  p.created_at = At(-1000);
  ASSERT_TRUE(store().PutProduct(p));
  model::Product other;
  other.id = "00000000-0000-4000-8000-000000000001";
  other.name = "SEO Site";
  other.type = "seo-site";
  other.created_at = At(0);
  ASSERT_TRUE(store().PutProduct(other));

  auto got = store().GetProduct(p.id);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->name, "Invoice Bot");
  EXPECT_EQ(got->type, "micro-saas");
  EXPECT_EQ(got->status, "active");
  EXPECT_EQ(got->launched_at, At(0));
  EXPECT_EQ(got->revenue_model, "subscription");
  EXPECT_EQ(got->monthly_cost, core::Money::FromMicros(12'500'000));
  EXPECT_EQ(NormJson(got->metadata), R"({"url":"https://x"})");
  EXPECT_EQ(got->created_at, At(-1000));

  p.status = "sunset";
  p.monthly_cost.reset();
  ASSERT_TRUE(store().PutProduct(p));
  got = store().GetProduct(p.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, "sunset");
  EXPECT_FALSE(got->monthly_cost.has_value());

  auto list = store().ListProducts();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, other.id);  // ordered by id
  EXPECT_EQ((*list)[1].id, p.id);
}

TEST_P(StoreContractTest, GetOfUnknownEntityIsNotFoundNamingTheId) {
  auto product = store().GetProduct("nope-product");
  ASSERT_FALSE(product);
  EXPECT_EQ(product.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(product.error().message().find("nope-product"), std::string::npos);
  auto agent = store().GetAgent("nope-agent");
  ASSERT_FALSE(agent);
  EXPECT_EQ(agent.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(agent.error().message().find("nope-agent"), std::string::npos);
  auto channel = store().GetChannel("nope-channel");
  ASSERT_FALSE(channel);
  EXPECT_EQ(channel.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(channel.error().message().find("nope-channel"), std::string::npos);
}

TEST_P(StoreContractTest, AgentsPutGetListAndReplace) {
  model::Agent a;
  a.id = "kev";
  a.role = "builder";
  a.default_model = "claude-opus-4-6";
  a.daily_budget = core::Money::FromMicros(50'000'000);
  a.created_at = At(0);
  ASSERT_TRUE(store().PutAgent(a));
  model::Agent b;
  b.id = "dash";
  b.role = "analytics";
  b.created_at = At(0);
  ASSERT_TRUE(store().PutAgent(b));

  auto got = store().GetAgent("kev");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->role, "builder");
  EXPECT_EQ(got->default_model, "claude-opus-4-6");
  EXPECT_EQ(got->daily_budget, core::Money::FromMicros(50'000'000));
  EXPECT_EQ(got->status, "active");
  EXPECT_EQ(got->metadata, "");

  a.status = "paused";
  ASSERT_TRUE(store().PutAgent(a));
  EXPECT_EQ(store().GetAgent("kev")->status, "paused");

  auto list = store().ListAgents();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "dash");
  EXPECT_EQ((*list)[1].id, "kev");
}

TEST_P(StoreContractTest, ChannelsPutGetListAndRequireAKnownProduct) {
  model::Product p;
  p.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  p.name = "Invoice Bot";
  p.type = "micro-saas";
  ASSERT_TRUE(store().PutProduct(p));

  model::RevenueChannel c;
  c.id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  c.product_id = p.id;
  c.channel_type = "stripe";
  c.channel_config = R"({"account":"acct_1"})";
  c.created_at = At(7);
  ASSERT_TRUE(store().PutChannel(c));
  model::RevenueChannel shared;
  shared.id = "00000000-0000-4000-8000-000000000002";
  shared.channel_type = "adsense";
  ASSERT_TRUE(store().PutChannel(shared));

  auto got = store().GetChannel(c.id);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->product_id, p.id);
  EXPECT_EQ(got->channel_type, "stripe");
  EXPECT_EQ(NormJson(got->channel_config), R"({"account":"acct_1"})");
  EXPECT_EQ(got->created_at, At(7));
  EXPECT_FALSE(store().GetChannel(shared.id)->product_id.has_value());
  EXPECT_EQ(store().ListChannels()->size(), 2u);

  model::RevenueChannel orphan = c;
  orphan.id = "00000000-0000-4000-8000-000000000003";
  orphan.product_id = "00000000-0000-4000-8000-00000000dead";
  auto put = store().PutChannel(orphan);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code(), ErrorCode::kConflict);
  EXPECT_NE(put.error().message().find("00000000-0000-4000-8000-00000000dead"), std::string::npos);
}

// --- API keys ----------------------------------------------------------------

ApiKeyRecord MakeKey(std::string id, std::string secret) {
  ApiKeyRecord k;
  k.id = std::move(id);
  k.name = "ci";
  k.secret_hash = core::Sha256Hex(secret);
  k.scopes = kScopeIngest | kScopeRead;
  k.created_at = At(0);
  return k;
}

TEST_P(StoreContractTest, ApiKeysCreateFindListRevoke) {
  ApiKeyRecord k = MakeKey("key_1", "tally_secret_1");
  ASSERT_TRUE(store().CreateApiKey(k));
  ASSERT_TRUE(store().CreateApiKey(MakeKey("key_0", "tally_secret_0")));

  auto found = store().FindApiKeyByHash(core::Sha256Hex("tally_secret_1"));
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(found->id, "key_1");
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->scopes, kScopeIngest | kScopeRead);
  EXPECT_EQ(found->created_at, At(0));
  EXPECT_FALSE(found->revoked_at.has_value());

  auto list = store().ListApiKeys();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "key_0");

  ASSERT_TRUE(store().RevokeApiKey("key_1", At(100)));
  auto revoked = store().FindApiKeyByHash(core::Sha256Hex("tally_secret_1"));
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code(), ErrorCode::kNotFound);
  // Revoked keys stay listed, with their revocation time.
  list = store().ListApiKeys();
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[1].revoked_at, At(100));
  // Revoking again keeps the first time.
  ASSERT_TRUE(store().RevokeApiKey("key_1", At(200)));
  EXPECT_EQ((*store().ListApiKeys())[1].revoked_at, At(100));
}

TEST_P(StoreContractTest, ApiKeyWithDuplicateIdIsConflict) {
  ASSERT_TRUE(store().CreateApiKey(MakeKey("key_1", "a")));
  auto again = store().CreateApiKey(MakeKey("key_1", "b"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_NE(again.error().message().find("key_1"), std::string::npos);
}

TEST_P(StoreContractTest, UnknownApiKeyIsNotFound) {
  auto found = store().FindApiKeyByHash(core::Sha256Hex("never issued"));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), ErrorCode::kNotFound);
  auto revoke = store().RevokeApiKey("key_missing", At(0));
  ASSERT_FALSE(revoke);
  EXPECT_EQ(revoke.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(revoke.error().message().find("key_missing"), std::string::npos);
}

// --- Query ---------------------------------------------------------------------

TEST_P(StoreContractTest, QueryReturnsColumnsAndTypedValues) {
  auto r = store().Query("SELECT 1 AS i, 2.5 AS d, 'x' AS s, NULL AS n");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->columns, (std::vector<std::string>{"i", "d", "s", "n"}));
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0], (std::vector<SqlValue>{std::int64_t{1}, 2.5, std::string("x"), nullptr}));
}

TEST_P(StoreContractTest, QueryStopsAtMaxRows) {
  std::vector<model::Event> events;
  for (int i = 0; i < 20; ++i) events.push_back(MakeLlmCall("e" + std::to_string(i)));
  auto batch = MakeBatch(std::move(events));
  ASSERT_TRUE(AppendOne(store(), batch));
  auto r = store().Query("SELECT event_id FROM llm_calls", 7);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->rows.size(), 7u);
}

TEST_P(StoreContractTest, QueryAcceptsOneStatementWithTrailingSeparatorsAndComments) {
  for (const char* sql :
       {"SELECT 1;", "SELECT 1 ;  \n", "SELECT 1; -- done", "SELECT 1 /* c */;"}) {
    auto r = store().Query(sql);
    EXPECT_TRUE(r) << sql << ": " << r.error().ToString();
  }
}

TEST_P(StoreContractTest, QueryRefusesWritesAndEverythingButOneReadOnlyStatement) {
  auto batch = MakeBatch({MakeLlmCall("a")});
  ASSERT_TRUE(AppendOne(store(), batch));
  for (const char* sql : {
           "INSERT INTO llm_calls (event_id) VALUES ('x')",
           "DELETE FROM llm_calls",
           "UPDATE llm_calls SET cost_usd = 0",
           "DROP TABLE llm_calls",
           "CREATE TABLE t (x INTEGER)",
           "PRAGMA user_version = 42",
           "ATTACH DATABASE ':memory:' AS other",
           "BEGIN",
           "SELECT 1; DELETE FROM llm_calls",
           "SELECT 1; SELECT 2",
           "SELEC 1",
           "SELECT * FROM no_such_table",
           "",
       }) {
    auto r = store().Query(sql);
    ASSERT_FALSE(r) << "accepted: " << sql;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << sql << ": " << r.error().ToString();
  }
  EXPECT_EQ(Count(EventKind::kLlmCall), 1);
  auto write = store().Query("DELETE FROM llm_calls");
  ASSERT_FALSE(write);
  EXPECT_NE(write.error().message().find("only read-only statements are allowed"),
            std::string::npos)
      << write.error().message();
}

// --- Concurrency ---------------------------------------------------------------

TEST_P(StoreContractTest, ReadersRunWhileAppendingAndSeeWholeCallsOnly) {
  constexpr int kCalls = 40;
  constexpr int kPerCall = 250;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad_reads{0};

  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (!done.load()) {
        auto r = store().Query("SELECT count(*) FROM llm_calls");
        auto n = store().CountEvents(EventKind::kLlmCall);
        if (!r || !n || r->rows.size() != 1) {
          ++bad_reads;
          continue;
        }
        std::int64_t seen = std::get<std::int64_t>(r->rows[0][0]);
        // Only committed, whole calls are visible, and counts never go back.
        if (seen % kPerCall != 0 || seen < last || *n < seen) ++bad_reads;
        last = seen;
        ++reads;
      }
    });
  }
  for (int c = 0; c < kCalls; ++c) {
    std::vector<model::Event> events;
    for (int i = 0; i < kPerCall; ++i) {
      events.push_back(MakeLlmCall("c" + std::to_string(c) + "-" + std::to_string(i)));
    }
    auto batch = MakeBatch(std::move(events));
    auto stats = AppendOne(store(), batch);
    ASSERT_TRUE(stats) << stats.error().ToString();
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(Count(EventKind::kLlmCall), kCalls * kPerCall);
}

// Several threads appending at once (the pipeline overlaps appends where the
// backend offers it): every event is stored once, whichever call carried it,
// with ids overlapping across calls in different orders and compositions.
TEST_P(StoreContractTest, ConcurrentAppendsStoreEachEventOnceWithItsRollups) {
  constexpr int kThreads = 4, kCalls = 10, kPerCall = 25, kIds = kCalls * kPerCall;
  std::atomic<std::int64_t> accepted = 0, duplicates = 0;
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        std::vector<model::Event> events;
        for (int i = 0; i < kPerCall; ++i) {
          const int n = (c * kPerCall + i + t * 7) % kIds;
          events.push_back(MakeLlmCall("c" + std::to_string(n), 1'000 + n, n * 1'000));
        }
        if (t % 2 == 1) std::reverse(events.begin(), events.end());
        auto batch = MakeBatch(std::move(events));
        auto stats = AppendOne(store(), batch);
        std::lock_guard lock(mu);
        if (!stats) {
          errors.push_back(stats.error().ToString());
          continue;
        }
        accepted += (*stats)[0].accepted;
        duplicates += (*stats)[0].duplicates;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(accepted.load(), kIds);
  EXPECT_EQ(accepted.load() + duplicates.load(), kThreads * kIds);
  EXPECT_EQ(Count(EventKind::kLlmCall), kIds);
  auto set = store().ReadRollups(At(-3'600'000'000), At(3'600'000'000), kAgentCostRollup);
  ASSERT_TRUE(set) << set.error().ToString();
  std::int64_t calls = 0, cost = 0;
  for (const AgentCostRow& r : set->agent_costs) {
    calls += r.call_count;
    cost += r.cost_micros;
  }
  EXPECT_EQ(calls, kIds);
  EXPECT_EQ(cost, kIds * 1'000 + kIds * (kIds - 1) / 2);
}

// --- Backends ------------------------------------------------------------------

std::vector<StoreBackend> Backends() {
  return {
      StoreBackend{"Sqlite", OpenSqliteForLocation},
      StoreBackend{"Postgres",
                   OpenPostgresForLocation,
                   [](char kind, const std::string& column) {
                     switch (kind) {
                       case 't': return "tally_us(" + column + ") AS " + column;
                       case 'm': return "(" + column + " * 1000000)::bigint AS " + column;
                       default: return "(" + column + " * 100)::bigint AS " + column;
                     }
                   }},
  };
}

INSTANTIATE_TEST_SUITE_P(AllBackends, StoreContractTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tally::store
