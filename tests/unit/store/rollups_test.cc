// Rollups (store/rollups.h), run against every backend: incremental
// maintenance in Append equals the recomputation from raw, for random streams
// with late, out-of-order and duplicate events; duplicates and rolled-back
// appends change nothing; the P&L view follows DESIGN.md's cost model.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "core/business_calendar.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

constexpr std::int64_t kHour = 3'600'000'000;
constexpr std::int64_t kDay = 24 * kHour;

struct RollupBackend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const std::string&)> open;
};

class RollupsTest : public ::testing::TestWithParam<RollupBackend> {
 protected:
  void SetUp() override {
    auto opened = GetParam().open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
  }
  Store& store() { return *store_; }

  // Every rollup row, plus the per-task state, as comparable values.
  struct Snapshot {
    RollupSet rollups;
    std::vector<AgentCostRow> daily_agent_costs;
    std::vector<std::vector<SqlValue>> tasks;
    RollupSet product_grain;  // tasks and daily agent costs read with kProductGrain
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot Take() {
    Snapshot s;
    auto r = store().ReadRollups(core::FromMicros(0), core::FromMicros(kBaseMicros + 400 * kDay),
                                 kAllRollups);
    EXPECT_TRUE(r) << r.error().ToString();
    if (r) s.rollups = std::move(*r);
    auto d = store().ReadRollups(core::FromMicros(0), core::FromMicros(kBaseMicros + 400 * kDay),
                                 kAgentCostDailyRollup);
    EXPECT_TRUE(d) << d.error().ToString();
    if (d) s.daily_agent_costs = std::move(d->agent_costs);
    auto t = store().Query("SELECT * FROM task_rollup ORDER BY task_id", 1'000'000);
    EXPECT_TRUE(t) << t.error().ToString();
    if (t) s.tasks = std::move(t->rows);
    auto g = store().ReadRollups(core::FromMicros(0), core::FromMicros(kBaseMicros + 400 * kDay),
                                 kTaskRollup | kAgentCostDailyRollup | kProductGrain);
    EXPECT_TRUE(g) << g.error().ToString();
    if (g) s.product_grain = std::move(*g);
    return s;
  }

  // What kProductGrain must return: the full-grain rows summed per bucket x
  // product x status (tasks) and per bucket (agent costs), computed here.
  static RollupSet Coarsen(const std::vector<TaskCostRow>& tasks,
                           const std::vector<AgentCostRow>& daily_agent_costs) {
    std::map<std::tuple<core::Timestamp, std::string, std::string>, TaskCostRow> t;
    for (const auto& r : tasks) {
      TaskCostRow& c = t[{r.bucket, r.product_id, r.status}];
      c.bucket = r.bucket;
      c.product_id = r.product_id;
      c.status = r.status;
      c.task_count += r.task_count;
      c.cost_micros += r.cost_micros;
      c.llm_cost_micros += r.llm_cost_micros;
      c.tool_cost_micros += r.tool_cost_micros;
      c.duration_ms_sum += r.duration_ms_sum;
      c.steps_sum += r.steps_sum;
      c.steps_n += r.steps_n;
      c.quality_centi_sum += r.quality_centi_sum;
      c.quality_n += r.quality_n;
    }
    std::map<core::Timestamp, AgentCostRow> a;
    for (const auto& r : daily_agent_costs) {
      AgentCostRow& c = a[r.bucket];
      c.bucket = r.bucket;
      c.call_count += r.call_count;
      c.input_tokens += r.input_tokens;
      c.output_tokens += r.output_tokens;
      c.cached_tokens += r.cached_tokens;
      c.cost_micros += r.cost_micros;
      c.latency_ms_sum += r.latency_ms_sum;
      c.error_count += r.error_count;
    }
    RollupSet out;
    for (auto& [k, r] : t) out.tasks.push_back(std::move(r));
    for (auto& [k, r] : a) out.agent_costs.push_back(std::move(r));
    return out;
  }

  tally::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// A random factory's events: a few agents, models, products and tasks, times
// spread over ~3 days in random order, ~15% exact re-sends of earlier events.
std::vector<model::Event> RandomStream(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<std::uint64_t>(k)); };
  const std::vector<std::string> agents = {"kev", "mae", "dash"};
  const std::vector<std::string> models = {"gpt-4o", "claude-opus-4-6"};
  const std::vector<std::string> products = {"11111111-1111-4111-8111-111111111111",
                                             "22222222-2222-4222-8222-222222222222"};
  auto task_id = [&](int t) { return fmt::format("00000000-0000-4000-8000-{:012d}", t); };
  auto time = [&] { return At(static_cast<std::int64_t>(rng() % (3 * kDay)) - kDay); };
  std::vector<model::Event> out;
  for (int i = 0; i < n; ++i) {
    if (!out.empty() && pick(100) < 15) {  // duplicate: the same event again
      out.push_back(out[pick(static_cast<int>(out.size()))]);
      continue;
    }
    const std::string id = "e" + std::to_string(i);
    switch (pick(11)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        model::LlmCall c = MakeLlmCall(id, 100 + pick(5000));
        c.time = time();
        c.agent_id = agents[pick(3)];
        c.model = models[pick(2)];
        c.cached_tokens = pick(500);
        c.latency_ms = pick(3000);
        c.status = pick(8) == 0 ? model::LlmStatus::kError : model::LlmStatus::kSuccess;
        if (pick(3) != 0) c.task_id = task_id(pick(12));
        out.emplace_back(std::move(c));
        break;
      }
      case 4:
      case 5: {
        model::TaskEvent t = MakeTask(id);
        t.time = time();
        t.task_id = task_id(pick(12));
        t.agent_id = agents[pick(3)];
        if (pick(4) != 0) t.product_id = products[pick(2)];
        t.task_type = pick(2) ? "build" : "research";
        t.status = static_cast<model::TaskStatus>(pick(4));
        if (pick(2)) t.total_cost_usd = core::Money::FromMicros(pick(20'000));
        if (pick(2)) t.duration_ms = pick(100'000);
        if (pick(2)) t.steps_count = pick(20);
        if (pick(2)) t.quality_score_centi = pick(101);
        if (pick(5) == 0 && !out.empty()) t.time = model::TimeOf(out.back());  // ties on time
        out.emplace_back(std::move(t));
        break;
      }
      case 6:
      case 7: {
        model::RevenueEvent r;
        r.event_id = id;
        r.time = time();
        r.product_id = products[pick(2)];
        r.event_type = static_cast<model::RevenueEventType>(pick(6));
        if (pick(6) != 0)
          r.amount_usd = core::Money::FromMicros((pick(4) == 0 ? -1 : 1) * pick(90'000'000));
        if (pick(3) != 0) r.customer_id = "cus_" + std::to_string(pick(5));
        out.emplace_back(std::move(r));
        break;
      }
      case 8: {
        model::InfraCost c;
        c.event_id = id;
        c.time = time();
        if (pick(2)) c.product_id = products[pick(2)];
        c.cost_type = pick(2) ? "hosting" : "ads";
        c.provider = "vercel";
        c.amount_usd = core::Money::FromMicros(pick(5'000'000) - 500'000);
        out.emplace_back(std::move(c));
        break;
      }
      case 10: {
        model::OpsEvent o;
        o.event_id = id;
        o.time = time();
        if (pick(3) != 0) o.product_id = products[pick(2)];
        o.kind = pick(2) ? "deploy" : "uptime_check";
        o.source = "github";
        o.status = std::vector<std::string>{"success", "failure", "down", "up"}[pick(4)];
        if (pick(2)) o.latency_ms = pick(5000);
        if (pick(2)) o.status_code = 200 + pick(400);
        out.emplace_back(std::move(o));
        break;
      }
      default: {
        model::GrowthEvent g;
        g.event_id = id;
        g.time = pick(4) == 0 ? At(0) : time();  // many share one instant: ties by event_id
        g.product_id = products[pick(2)];
        g.channel = pick(2) ? "organic" : "all";
        g.metric = pick(2) ? "pageview" : "users";
        g.value_centi = pick(100'000);
        out.emplace_back(std::move(g));
        break;
      }
    }
  }
  return out;
}

TEST_P(RollupsTest, IncrementalEqualsRebuildForRandomStreams) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE(seed);
    tally::testing::TempDir seed_dir;  // a fresh store per seed
    store_.reset();
    auto opened = GetParam().open(seed_dir.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    // Seeds 4 and 5 cut the buckets in business zones: DST (New York) and a
    // half-hour offset (Kolkata), whose local hours start at :30 UTC.
    const char* zone = seed == 4 ? "America/New_York" : seed == 5 ? "Asia/Kolkata" : "UTC";
    ASSERT_TRUE(store().SetRollupTimeZone(zone));
    auto calendar = core::BusinessCalendar::Create(zone);
    ASSERT_TRUE(calendar);
    std::mt19937_64 rng(seed * 7919);
    std::vector<model::Event> events = RandomStream(seed, 600);
    // Random groups, sometimes several batches in one Append call.
    size_t i = 0;
    while (i < events.size()) {
      std::vector<model::Batch> batches(1 + rng() % 3);
      for (auto& b : batches) {
        size_t n = std::min<size_t>(1 + rng() % 40, events.size() - i);
        b.events.assign(events.begin() + static_cast<long>(i),
                        events.begin() + static_cast<long>(i + n));
        i += n;
      }
      std::vector<const model::Batch*> ptrs;
      for (auto& b : batches) ptrs.push_back(&b);
      auto stats = AppendAll(store(), ptrs);
      ASSERT_TRUE(stats) << stats.error().ToString();
    }
    Snapshot incremental = Take();
    ASSERT_FALSE(incremental.rollups.agent_costs.empty());
    ASSERT_FALSE(incremental.rollups.tasks.empty());
    ASSERT_TRUE(store().RebuildRollups());
    Snapshot rebuilt = Take();
    EXPECT_EQ(incremental.rollups.agent_costs, rebuilt.rollups.agent_costs);
    EXPECT_EQ(incremental.daily_agent_costs, rebuilt.daily_agent_costs);
    ASSERT_FALSE(incremental.daily_agent_costs.empty());
    EXPECT_EQ(incremental.rollups.revenue, rebuilt.rollups.revenue);
    EXPECT_EQ(incremental.rollups.tasks, rebuilt.rollups.tasks);
    EXPECT_EQ(incremental.rollups.infra, rebuilt.rollups.infra);
    EXPECT_EQ(incremental.rollups.growth, rebuilt.rollups.growth);
    EXPECT_EQ(incremental.rollups.ops, rebuilt.rollups.ops);
    ASSERT_FALSE(incremental.rollups.ops.empty());
    EXPECT_TRUE(incremental.tasks == rebuilt.tasks);
    // Every bucket is a local hour / business day start of the zone.
    for (const auto& r : rebuilt.rollups.agent_costs)
      EXPECT_EQ(r.bucket, calendar->HourStart(r.bucket)) << core::FormatRfc3339(r.bucket);
    for (const auto& r : rebuilt.daily_agent_costs)
      EXPECT_EQ(r.bucket, calendar->DayStart(r.bucket)) << core::FormatRfc3339(r.bucket);
    for (const auto& r : rebuilt.rollups.revenue)
      EXPECT_EQ(r.bucket, calendar->DayStart(r.bucket)) << core::FormatRfc3339(r.bucket);
    // Product grain: the coarse rows equal the full-grain rows summed, both
    // as maintained incrementally and after the rebuild.
    const RollupSet coarse =
        Coarsen(incremental.rollups.tasks, incremental.daily_agent_costs);
    EXPECT_EQ(incremental.product_grain.tasks, coarse.tasks);
    EXPECT_EQ(incremental.product_grain.agent_costs, coarse.agent_costs);
    EXPECT_EQ(rebuilt.product_grain, incremental.product_grain);

    // Product lifetimes equal the rows summed here, at any cut-off.
    for (core::Timestamp to : {At(-10 * kDay), At(3 * kDay), At(400 * kDay)}) {
      std::map<std::string, ProductLifetime> want;
      auto add = [&](const std::string& id) -> ProductLifetime& {
        ProductLifetime& p = want[id];
        p.product_id = id;
        return p;
      };
      for (const auto& r : rebuilt.rollups.revenue) {
        if (r.bucket >= to) continue;
        ProductLifetime& p = add(r.product_id);
        p.net_revenue_micros += r.net_micros;
        if (r.gross_micros > 0 && (!p.first_revenue || r.bucket < *p.first_revenue))
          p.first_revenue = r.bucket;
      }
      for (const auto& r : rebuilt.rollups.tasks)
        if (r.bucket < to && !r.product_id.empty()) add(r.product_id).task_cost_micros += r.cost_micros;
      for (const auto& r : rebuilt.rollups.infra)
        if (r.bucket < to && !r.product_id.empty()) add(r.product_id).infra_cost_micros += r.amount_micros;
      std::vector<ProductLifetime> expected;
      for (auto& [id, p] : want) expected.push_back(p);
      auto got = store().ProductLifetimes(to);
      ASSERT_TRUE(got) << got.error().ToString();
      EXPECT_EQ(*got, expected) << core::FormatRfc3339(to);
    }

    // And against sums taken here from the deduplicated stream.
    std::map<std::string, const model::Event*> unique;
    for (const auto& e : events)
      unique.emplace(std::string(model::TableName(model::KindOf(e))) + model::EventIdOf(e), &e);
    std::int64_t llm = 0, net = 0, ops = 0, ops_failures = 0;
    for (const auto& [k, e] : unique) {
      if (const auto* c = std::get_if<model::LlmCall>(e)) llm += c->cost_usd.micros();
      if (const auto* o = std::get_if<model::OpsEvent>(e)) {
        ++ops;
        ops_failures += o->status == "failure" || o->status == "down" ? 1 : 0;
      }
      if (const auto* r = std::get_if<model::RevenueEvent>(e))
        net += r->amount_usd ? r->amount_usd->micros() : 0;
    }
    std::int64_t llm_rolled = 0, net_rolled = 0;
    for (const auto& r : rebuilt.rollups.agent_costs) llm_rolled += r.cost_micros;
    for (const auto& r : rebuilt.rollups.revenue) net_rolled += r.net_micros;
    EXPECT_EQ(llm_rolled, llm);
    EXPECT_EQ(net_rolled, net);
    std::int64_t ops_rolled = 0, ops_failures_rolled = 0;
    for (const auto& r : rebuilt.rollups.ops) {
      ops_rolled += r.event_count;
      ops_failures_rolled += r.failure_count;
    }
    EXPECT_EQ(ops_rolled, ops);
    EXPECT_EQ(ops_failures_rolled, ops_failures);
    store_.reset();
  }
}

TEST_P(RollupsTest, LateEventLandsInItsOwnBucketAndDuplicatesChangeNothing) {
  auto today = MakeBatch({MakeLlmCall("now", 1'000, 2 * kDay)});
  ASSERT_TRUE(AppendOne(store(), today));
  auto late =
      MakeBatch({MakeLlmCall("late", 500, -3 * kHour), MakeLlmCall("now", 1'000, 2 * kDay)});
  ASSERT_TRUE(AppendOne(store(), late));
  auto set = store().ReadRollups(core::FromMicros(0), At(10 * kDay), kAllRollups);
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->agent_costs.size(), 2u);
  // kBaseMicros is 12:00Z, so -3 h is the 09:00 bucket of the same day.
  EXPECT_EQ(set->agent_costs[0].bucket, At(-3 * kHour));
  EXPECT_EQ(set->agent_costs[0].cost_micros, 500);
  EXPECT_EQ(set->agent_costs[1].bucket, At(2 * kDay));
  EXPECT_EQ(set->agent_costs[1].call_count, 1);  // the re-sent "now" did not count
  EXPECT_EQ(set->agent_costs[1].cost_micros, 1'000);
}

model::RevenueEvent Sale(std::string id, std::int64_t micros, const char* rfc3339) {
  model::RevenueEvent r;
  r.event_id = std::move(id);
  r.time = *core::ParseRfc3339(rfc3339);
  r.product_id = "11111111-1111-4111-8111-111111111111";
  r.event_type = model::RevenueEventType::kPayment;
  r.amount_usd = core::Money::FromMicros(micros);
  return r;
}

// Net revenue per day bucket, as RFC 3339 text -> micros.
std::map<std::string, std::int64_t> RevenueByDay(Store& store) {
  std::map<std::string, std::int64_t> out;
  auto set = store.ReadRollups(core::FromMicros(0), At(30 * kDay), kRevenueRollup);
  EXPECT_TRUE(set) << set.error().ToString();
  if (set) {
    for (const auto& r : set->revenue) out[core::FormatRfc3339(r.bucket)] += r.net_micros;
  }
  return out;
}

TEST_P(RollupsTest, BusinessTimeZoneCutsDaysLocallyAndAChangeRebuildsThem) {
  ASSERT_EQ(store().RollupTimeZone().value_or("?"), "UTC");
  // 02:00Z on Mar 1 is still Feb 28 in New York (EST, UTC-5); 12:00Z is Mar 1.
  auto sales = MakeBatch({Sale("s1", 10'000'000, "2026-03-01T02:00:00Z"),
                          Sale("s2", 20'000'000, "2026-03-01T12:00:00Z"),
                          MakeLlmCall("c1", 500, -(9 * kHour + 50 * 60'000'000LL))});  // 02:10Z
  ASSERT_TRUE(AppendOne(store(), sales));
  using Days = std::map<std::string, std::int64_t>;
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-03-01T00:00:00Z", 30'000'000}}));

  ASSERT_TRUE(store().SetRollupTimeZone("America/New_York"));
  EXPECT_EQ(store().RollupTimeZone().value_or("?"), "America/New_York");
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-02-28T05:00:00Z", 10'000'000},
                                         {"2026-03-01T05:00:00Z", 20'000'000}}));

  // Kolkata (UTC+05:30): both sales fall on Mar 1 local, which began at
  // 18:30Z on Feb 28; the 02:10Z call is in the local hour that began 01:30Z.
  ASSERT_TRUE(store().SetRollupTimeZone("Asia/Kolkata"));
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-02-28T18:30:00Z", 30'000'000}}));
  auto hourly = store().ReadRollups(core::FromMicros(0), At(kDay), kAgentCostRollup);
  ASSERT_TRUE(hourly);
  ASSERT_EQ(hourly->agent_costs.size(), 1u);
  EXPECT_EQ(core::FormatRfc3339(hourly->agent_costs[0].bucket), "2026-03-01T01:30:00Z");
  auto daily = store().ReadRollups(core::FromMicros(0), At(kDay), kAgentCostDailyRollup);
  ASSERT_TRUE(daily);
  ASSERT_EQ(daily->agent_costs.size(), 1u);
  EXPECT_EQ(core::FormatRfc3339(daily->agent_costs[0].bucket), "2026-02-28T18:30:00Z");

  // Incremental appends follow the stored zone: 20:00Z is 01:30 on Mar 2 local.
  auto late = MakeBatch({Sale("s3", 5'000'000, "2026-03-01T20:00:00Z")});
  ASSERT_TRUE(AppendOne(store(), late));
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-02-28T18:30:00Z", 30'000'000},
                                         {"2026-03-01T18:30:00Z", 5'000'000}}));

  // An unknown zone is refused by name and changes nothing.
  auto bad = store().SetRollupTimeZone("Mars/Olympus");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("Mars/Olympus"), std::string::npos);
  EXPECT_EQ(store().RollupTimeZone().value_or("?"), "Asia/Kolkata");

  // The zone belongs to the data: a reopened store keeps cutting in it.
  store_.reset();
  auto reopened = GetParam().open(dir_.str());
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  store_ = std::move(*reopened);
  EXPECT_EQ(store().RollupTimeZone().value_or("?"), "Asia/Kolkata");
  auto more = MakeBatch({Sale("s4", 1'000'000, "2026-03-01T18:29:00Z")});  // 23:59 Mar 1 local
  ASSERT_TRUE(AppendOne(store(), more));
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-02-28T18:30:00Z", 31'000'000},
                                         {"2026-03-01T18:30:00Z", 5'000'000}}));
  // Back to UTC: the same raw rows, cut at UTC midnight again.
  ASSERT_TRUE(store().SetRollupTimeZone("UTC"));
  EXPECT_EQ(RevenueByDay(store()), (Days{{"2026-03-01T00:00:00Z", 36'000'000}}));
}

TEST_P(RollupsTest, FailedAppendLeavesRollupsUntouched) {
  auto good = MakeBatch({MakeLlmCall("a", 700)});
  ASSERT_TRUE(AppendOne(store(), good));
  model::LlmCall bad = MakeLlmCall("bad");
  bad.input_tokens = -1;  // refused by the table's CHECK: the whole call rolls back
  auto mixed = MakeBatch({MakeLlmCall("b", 900), bad});
  ASSERT_FALSE(AppendOne(store(), mixed));
  auto set = store().ReadRollups(core::FromMicros(0), At(kDay), kAllRollups);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->agent_costs.size(), 1u);
  EXPECT_EQ(set->agent_costs[0].cost_micros, 700);
  // The next append starts clean (nothing of the failed one is pending).
  auto next = MakeBatch({MakeLlmCall("c", 50)});
  ASSERT_TRUE(AppendOne(store(), next));
  set = store().ReadRollups(core::FromMicros(0), At(kDay), kAllRollups);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->agent_costs[0].cost_micros, 750);
}

TEST_P(RollupsTest, LaterTerminalEventMovesTheTaskAndLateCallsCorrectItsCost) {
  const std::string task = "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b";
  model::LlmCall call = MakeLlmCall("c1", 3'000);
  call.task_id = task;
  model::TaskEvent failed = MakeTask("t-failed");  // no total_cost_usd: cost = its calls
  failed.status = model::TaskStatus::kFailed;
  failed.time = At(kHour);
  auto first = MakeBatch({call, failed});
  ASSERT_TRUE(AppendOne(store(), first));
  model::LlmCall late_call = MakeLlmCall("c2", 2'000, 30 * 60'000'000LL);
  late_call.task_id = task;
  auto second = MakeBatch({late_call});
  ASSERT_TRUE(AppendOne(store(), second));
  auto set = store().ReadRollups(core::FromMicros(0), At(10 * kDay), kAllRollups);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->tasks.size(), 1u);
  EXPECT_EQ(set->tasks[0].status, "failed");
  EXPECT_EQ(set->tasks[0].cost_micros, 5'000);  // 3,000 + the late 2,000

  // A retry completes the next day with a reported cost: the task now counts
  // once, as completed, with tool cost 9,000 - 5,000.
  model::TaskEvent done = MakeTask("t-done");
  done.status = model::TaskStatus::kCompleted;
  done.time = At(kDay);
  done.total_cost_usd = core::Money::FromMicros(9'000);
  auto third = MakeBatch({done});
  ASSERT_TRUE(AppendOne(store(), third));
  set = store().ReadRollups(core::FromMicros(0), At(10 * kDay), kAllRollups);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->tasks.size(), 1u);
  EXPECT_EQ(set->tasks[0].status, "completed");
  EXPECT_EQ(set->tasks[0].bucket, core::FromMicros(kBaseMicros - 12 * kHour + kDay));
  EXPECT_EQ(set->tasks[0].task_count, 1);
  EXPECT_EQ(set->tasks[0].cost_micros, 9'000);
  EXPECT_EQ(set->tasks[0].llm_cost_micros, 5'000);
  EXPECT_EQ(set->tasks[0].tool_cost_micros, 4'000);
}

std::vector<RollupBackend> Backends() {
  return {
      RollupBackend{"Sqlite",
                    [](const std::string& dir) -> Result<std::unique_ptr<Store>> {
                      auto s = SqliteStore::Open(dir);
                      if (!s) return std::unexpected(std::move(s).error());
                      return std::unique_ptr<Store>(std::move(*s));
                    }},
      RollupBackend{"Postgres", OpenPostgresForLocation},
  };
}

INSTANTIATE_TEST_SUITE_P(AllBackends, RollupsTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tally::store
