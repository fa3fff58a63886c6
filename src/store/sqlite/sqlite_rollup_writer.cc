#include "store/sqlite/sqlite_rollup_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "store/sqlite/sqlite_statement.h"

namespace tally::store::sqlite {
namespace {

using std::int64_t;
using std::string_view;

size_t Mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }
size_t H(string_view s) { return std::hash<string_view>{}(s); }

// Keys hold views into the events being appended (alive until Flush).
struct AgentKey {
  int64_t bucket;
  string_view agent, model, provider;
  bool operator==(const AgentKey&) const = default;
};
struct AgentKeyHash {
  size_t operator()(const AgentKey& k) const {
    return Mix(Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.agent)), H(k.model)), H(k.provider));
  }
};
struct AgentSums {
  int64_t calls = 0, input = 0, output = 0, cached = 0, cost = 0, latency = 0, errors = 0;
};

struct RevenueKey {
  int64_t bucket;
  string_view product, type;
  bool operator==(const RevenueKey&) const = default;
};
struct RevenueKeyHash {
  size_t operator()(const RevenueKey& k) const {
    return Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.product)), H(k.type));
  }
};
struct RevenueSums {
  int64_t gross = 0, refunds = 0, net = 0, count = 0, new_customers = 0;
};
struct CustomerKey {
  RevenueKey group;
  string_view customer;
  bool operator==(const CustomerKey&) const = default;
};
struct CustomerKeyHash {
  size_t operator()(const CustomerKey& k) const {
    return Mix(RevenueKeyHash{}(k.group), H(k.customer));
  }
};

struct InfraKey {
  int64_t bucket;
  string_view product, cost_type;
  bool operator==(const InfraKey&) const = default;
};
struct InfraKeyHash {
  size_t operator()(const InfraKey& k) const {
    return Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.product)), H(k.cost_type));
  }
};
struct InfraSums {
  int64_t amount = 0, count = 0;
};

struct GrowthKey {
  int64_t bucket;
  string_view product, channel, metric;
  bool operator==(const GrowthKey&) const = default;
};
struct GrowthKeyHash {
  size_t operator()(const GrowthKey& k) const {
    return Mix(Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.product)), H(k.channel)), H(k.metric));
  }
};
struct GrowthSums {
  int64_t sum = 0, count = 0, last_time = 0, last_value = 0;
  string_view last_event_id;
};

struct OpsKey {
  int64_t bucket;
  string_view product, kind;
  bool operator==(const OpsKey&) const = default;
};
struct OpsKeyHash {
  size_t operator()(const OpsKey& k) const {
    return Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.product)), H(k.kind));
  }
};
struct OpsSums {
  int64_t count = 0, failures = 0, latency = 0, latency_n = 0;
};

// A task's terminal event as the rollups need it (owning: it may come from
// the database).
struct Terminal {
  int64_t time = 0;
  std::string event_id, agent, product, type, status;
  std::optional<int64_t> total_cost, duration, steps, quality;
};

bool Later(int64_t time_a, string_view id_a, int64_t time_b, string_view id_b) {
  return time_a > time_b || (time_a == time_b && id_a > id_b);
}

bool IsTerminal(model::TaskStatus s) { return s != model::TaskStatus::kStarted; }

struct PendingTask {
  int64_t call_cost = 0, call_count = 0;
  const model::TaskEvent* terminal = nullptr;  // latest terminal event in this call
};

struct TaskDayKey {
  int64_t bucket;
  std::string product, agent, type, status;
  bool operator==(const TaskDayKey&) const = default;
};
struct TaskDayKeyHash {
  size_t operator()(const TaskDayKey& k) const {
    return Mix(Mix(Mix(Mix(std::hash<int64_t>{}(k.bucket), H(k.product)), H(k.agent)), H(k.type)),
               H(k.status));
  }
};
struct TaskDaySums {
  int64_t count = 0, cost = 0, llm = 0, tool = 0, duration = 0, steps = 0, steps_n = 0, quality = 0,
          quality_n = 0;
  void Add(const TaskDaySums& o, int sign) {
    count += sign * o.count;
    cost += sign * o.cost;
    llm += sign * o.llm;
    tool += sign * o.tool;
    duration += sign * o.duration;
    steps += sign * o.steps;
    steps_n += sign * o.steps_n;
    quality += sign * o.quality;
    quality_n += sign * o.quality_n;
  }
  bool IsZero() const {
    return count == 0 && cost == 0 && llm == 0 && tool == 0 && duration == 0 && steps == 0 &&
           steps_n == 0 && quality == 0 && quality_n == 0;
  }
};

// What one terminal task adds to its task_costs_daily row (KPIS.md cost model).
TaskDaySums Contribution(const Terminal& t, int64_t call_cost) {
  TaskDaySums s;
  s.count = 1;
  s.cost = t.total_cost.value_or(call_cost);
  s.llm = call_cost;
  s.tool = t.total_cost ? std::max<int64_t>(0, *t.total_cost - call_cost) : 0;
  s.duration = t.duration.value_or(0);
  s.steps = t.steps.value_or(0);
  s.steps_n = t.steps ? 1 : 0;
  s.quality = t.quality.value_or(0);
  s.quality_n = t.quality ? 1 : 0;
  return s;
}

TaskDayKey DayKeyOf(const core::BusinessCalendar& calendar, const Terminal& t) {
  return TaskDayKey{calendar.DayBucket(t.time), t.product, t.agent, t.type, t.status};
}

Terminal FromEvent(const model::TaskEvent& e) {
  Terminal t;
  t.time = core::ToMicros(e.time);
  t.event_id = e.event_id;
  t.agent = e.agent_id;
  t.product = e.product_id.value_or("");
  t.type = e.task_type;
  t.status = std::string(model::ToString(e.status));
  if (e.total_cost_usd) t.total_cost = e.total_cost_usd->micros();
  t.duration = e.duration_ms;
  t.steps = e.steps_count;
  t.quality = e.quality_score_centi;
  return t;
}

constexpr string_view kAgentUpsert =
    "INSERT INTO agent_costs_hourly (bucket, agent_id, model, provider, call_count, "
    "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "
    "error_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (bucket, agent_id, model, provider) DO UPDATE SET "
    "call_count = call_count + excluded.call_count, "
    "total_input_tokens = total_input_tokens + excluded.total_input_tokens, "
    "total_output_tokens = total_output_tokens + excluded.total_output_tokens, "
    "total_cached_tokens = total_cached_tokens + excluded.total_cached_tokens, "
    "total_cost = total_cost + excluded.total_cost, "
    "sum_latency_ms = sum_latency_ms + excluded.sum_latency_ms, "
    "error_count = error_count + excluded.error_count";

// Same columns, per day: derived in Flush from the hourly sums (no per-row work).
const std::string& AgentDailyUpsert() {
  static const std::string sql = [] {
    std::string s(kAgentUpsert);
    s.replace(s.find("agent_costs_hourly"), std::string_view("agent_costs_hourly").size(),
              "agent_costs_daily");
    return s;
  }();
  return sql;
}

constexpr string_view kCustomerInsert =
    "INSERT INTO revenue_daily_customers (bucket, product_id, event_type, customer_id) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

constexpr string_view kRevenueUpsert =
    "INSERT INTO revenue_daily (bucket, product_id, event_type, gross_revenue, refunds, "
    "total_revenue, event_count, unique_customers) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (bucket, product_id, event_type) DO UPDATE SET "
    "gross_revenue = gross_revenue + excluded.gross_revenue, "
    "refunds = refunds + excluded.refunds, "
    "total_revenue = total_revenue + excluded.total_revenue, "
    "event_count = event_count + excluded.event_count, "
    "unique_customers = unique_customers + excluded.unique_customers";

constexpr string_view kInfraUpsert =
    "INSERT INTO infra_costs_daily (bucket, product_id, cost_type, total_cost, event_count) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (bucket, product_id, cost_type) DO UPDATE SET "
    "total_cost = total_cost + excluded.total_cost, event_count = event_count + "
    "excluded.event_count";

constexpr string_view kGrowthUpsert =
    "INSERT INTO growth_daily (bucket, product_id, channel, metric, total_value, event_count, "
    "last_time, last_event_id, last_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (bucket, product_id, channel, metric) DO UPDATE SET "
    "total_value = total_value + excluded.total_value, "
    "event_count = event_count + excluded.event_count, "
    "last_value = CASE WHEN excluded.last_time > last_time OR (excluded.last_time = last_time "
    "AND excluded.last_event_id > last_event_id) THEN excluded.last_value ELSE last_value END, "
    "last_event_id = CASE WHEN excluded.last_time > last_time OR (excluded.last_time = last_time "
    "AND excluded.last_event_id > last_event_id) THEN excluded.last_event_id ELSE last_event_id "
    "END, "
    "last_time = max(last_time, excluded.last_time)";

constexpr string_view kOpsUpsert =
    "INSERT INTO ops_daily (bucket, product_id, kind, event_count, failure_count, latency_ms_sum, "
    "latency_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (bucket, product_id, kind) "
    "DO UPDATE SET event_count = event_count + excluded.event_count, "
    "failure_count = failure_count + excluded.failure_count, "
    "latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, "
    "latency_count = latency_count + excluded.latency_count";

// Column order of kTaskCallsUpsert's RETURNING and of kTaskSelect.
constexpr string_view kTaskColumns =
    "call_cost, terminal_time, terminal_event_id, agent_id, product_id, task_type, status, "
    "total_cost_usd, duration_ms, steps_count, quality_score";

const std::string& TaskCallsUpsert() {
  static const std::string sql = fmt::format(
      "INSERT INTO task_rollup (task_id, call_cost, call_count) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (task_id) DO UPDATE SET call_cost = call_cost + excluded.call_cost, "
      "call_count = call_count + excluded.call_count RETURNING {}",
      kTaskColumns);
  return sql;
}
const std::string& TaskSelect() {
  static const std::string sql =
      fmt::format("SELECT {} FROM task_rollup WHERE task_id = ?1", kTaskColumns);
  return sql;
}

constexpr string_view kTaskTerminalUpsert =
    "INSERT INTO task_rollup (task_id, call_cost, call_count, terminal_time, terminal_event_id, "
    "agent_id, product_id, task_type, status, total_cost_usd, duration_ms, steps_count, "
    "quality_score) VALUES (?1, 0, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (task_id) DO UPDATE SET terminal_time = excluded.terminal_time, "
    "terminal_event_id = excluded.terminal_event_id, agent_id = excluded.agent_id, "
    "product_id = excluded.product_id, task_type = excluded.task_type, status = excluded.status, "
    "total_cost_usd = excluded.total_cost_usd, duration_ms = excluded.duration_ms, "
    "steps_count = excluded.steps_count, quality_score = excluded.quality_score";

constexpr string_view kTaskDayUpsert =
    "INSERT INTO task_costs_daily (bucket, product_id, agent_id, task_type, status, task_count, "
    "total_cost, llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, quality_sum, "
    "quality_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
    "ON CONFLICT (bucket, product_id, agent_id, task_type, status) DO UPDATE SET "
    "task_count = task_count + excluded.task_count, total_cost = total_cost + excluded.total_cost, "
    "llm_cost = llm_cost + excluded.llm_cost, tool_cost = tool_cost + excluded.tool_cost, "
    "total_duration_ms = total_duration_ms + excluded.total_duration_ms, "
    "steps_sum = steps_sum + excluded.steps_sum, steps_count = steps_count + excluded.steps_count, "
    "quality_sum = quality_sum + excluded.quality_sum, "
    "quality_count = quality_count + excluded.quality_count RETURNING task_count";

constexpr string_view kTaskDayDelete =
    "DELETE FROM task_costs_daily WHERE bucket = ?1 AND product_id = ?2 AND agent_id = ?3 AND "
    "task_type = ?4 AND status = ?5";

}  // namespace

struct RollupWriter::State {
  core::BusinessCalendar calendar = core::BusinessCalendar::Utc();
  std::unordered_map<AgentKey, AgentSums, AgentKeyHash> agents;
  std::unordered_map<RevenueKey, RevenueSums, RevenueKeyHash> revenue;
  std::unordered_set<CustomerKey, CustomerKeyHash> customers;
  std::unordered_map<InfraKey, InfraSums, InfraKeyHash> infra;
  std::unordered_map<GrowthKey, GrowthSums, GrowthKeyHash> growth;
  std::unordered_map<OpsKey, OpsSums, OpsKeyHash> ops;
  std::unordered_map<string_view, PendingTask> tasks;

  Statement agent_upsert, agent_daily_upsert, customer_insert, revenue_upsert, infra_upsert,
      growth_upsert, ops_upsert, task_calls_upsert, task_select, task_terminal_upsert, task_day_upsert,
      task_day_delete;
};

RollupWriter::RollupWriter() : state_(std::make_unique<State>()) {}
RollupWriter::~RollupWriter() = default;

void RollupWriter::Clear() {
  State& s = *state_;
  s.agents.clear();
  s.revenue.clear();
  s.customers.clear();
  s.infra.clear();
  s.growth.clear();
  s.ops.clear();
  s.tasks.clear();
}

void RollupWriter::SetCalendar(core::BusinessCalendar calendar) { state_->calendar = std::move(calendar); }

const core::BusinessCalendar& RollupWriter::calendar() const { return state_->calendar; }

namespace {

// tally_hour(us) / tally_day(us): the writer's bucket functions, so the SQL
// of a rebuild or migration cuts buckets exactly as Add does.
template <std::int64_t (core::BusinessCalendar::*Bucket)(std::int64_t) const>
void BucketFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  const auto* state = static_cast<const RollupWriter*>(sqlite3_user_data(ctx));
  sqlite3_result_int64(ctx, (state->calendar().*Bucket)(sqlite3_value_int64(argv[0])));
}

}  // namespace

core::Status RollupWriter::RegisterBucketFunctions(sqlite3* db) const {
  // Not SQLITE_DETERMINISTIC: the zone may change between statements.
  const int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  void* self = const_cast<RollupWriter*>(this);
  int rc = sqlite3_create_function_v2(db, "tally_hour", 1, flags, self,
                                      &BucketFunction<&core::BusinessCalendar::HourBucket>, nullptr,
                                      nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function_v2(db, "tally_day", 1, flags, self,
                                    &BucketFunction<&core::BusinessCalendar::DayBucket>, nullptr,
                                    nullptr, nullptr);
  }
  if (rc != SQLITE_OK) return std::unexpected(ErrorFromSqlite(rc, db, "register bucket functions"));
  return core::OkStatus();
}

void RollupWriter::ReleaseStatements() {
  Clear();
  State& s = *state_;
  for (Statement* st :
       {&s.agent_upsert, &s.agent_daily_upsert, &s.customer_insert, &s.revenue_upsert,
        &s.infra_upsert, &s.growth_upsert, &s.ops_upsert, &s.task_calls_upsert, &s.task_select,
        &s.task_terminal_upsert, &s.task_day_upsert, &s.task_day_delete}) {
    *st = Statement();
  }
}

void RollupWriter::Add(const model::Event& event) {
  State& s = *state_;
  if (const auto* c = std::get_if<model::LlmCall>(&event)) {
    AgentSums& a = s.agents[AgentKey{s.calendar.HourBucket(core::ToMicros(c->time)), c->agent_id,
                                     c->model, c->provider}];
    ++a.calls;
    a.input += c->input_tokens;
    a.output += c->output_tokens;
    a.cached += c->cached_tokens;
    a.cost += c->cost_usd.micros();
    a.latency += c->latency_ms;
    a.errors += c->status != model::LlmStatus::kSuccess ? 1 : 0;
    if (c->task_id) {
      PendingTask& t = s.tasks[*c->task_id];
      t.call_cost += c->cost_usd.micros();
      ++t.call_count;
    }
  } else if (const auto* r = std::get_if<model::RevenueEvent>(&event)) {
    RevenueKey key{s.calendar.DayBucket(core::ToMicros(r->time)), r->product_id,
                   model::ToString(r->event_type)};
    RevenueSums& sums = s.revenue[key];
    const int64_t amount = r->amount_usd ? r->amount_usd->micros() : 0;
    (amount > 0 ? sums.gross : sums.refunds) += amount;
    sums.net += amount;
    ++sums.count;
    if (r->customer_id) s.customers.insert(CustomerKey{key, *r->customer_id});
  } else if (const auto* t = std::get_if<model::TaskEvent>(&event)) {
    if (!IsTerminal(t->status)) return;  // only terminal events carry a task's cost
    PendingTask& p = s.tasks[t->task_id];
    if (p.terminal == nullptr || Later(core::ToMicros(t->time), t->event_id,
                                       core::ToMicros(p.terminal->time), p.terminal->event_id)) {
      p.terminal = t;
    }
  } else if (const auto* i = std::get_if<model::InfraCost>(&event)) {
    InfraSums& sums = s.infra[InfraKey{
        s.calendar.DayBucket(core::ToMicros(i->time)),
        // "" not string_view(): a null data pointer would bind NULL.
        i->product_id ? string_view(*i->product_id) : string_view(""), i->cost_type}];
    sums.amount += i->amount_usd.micros();
    ++sums.count;
  } else if (const auto* g = std::get_if<model::GrowthEvent>(&event)) {
    GrowthSums& sums = s.growth[GrowthKey{s.calendar.DayBucket(core::ToMicros(g->time)),
                                          g->product_id, g->channel, g->metric}];
    const int64_t time = core::ToMicros(g->time);
    if (sums.count == 0 || Later(time, g->event_id, sums.last_time, sums.last_event_id)) {
      sums.last_time = time;
      sums.last_event_id = g->event_id;
      sums.last_value = g->value_centi;
    }
    sums.sum += g->value_centi;
    ++sums.count;
  } else if (const auto* o = std::get_if<model::OpsEvent>(&event)) {
    OpsSums& sums = s.ops[OpsKey{s.calendar.DayBucket(core::ToMicros(o->time)),
                                 o->product_id ? string_view(*o->product_id) : string_view(""),
                                 o->kind}];
    ++sums.count;
    sums.failures += model::IsOpsFailure(o->status) ? 1 : 0;
    if (o->latency_ms) {
      sums.latency += *o->latency_ms;
      ++sums.latency_n;
    }
  }
}

namespace {

core::Status Prepared(sqlite3* db, Statement& stmt, string_view sql, string_view context) {
  if (!stmt) stmt = TALLY_TRY(Statement::Prepare(db, sql, context, /*persistent=*/true));
  return core::OkStatus();
}

// Steps a bound upsert/insert to completion (RETURNING rows are read by the
// caller before this when needed).
core::Status Run(sqlite3* db, Statement& stmt, int bind_rc, string_view context) {
  int rc = bind_rc == SQLITE_OK ? stmt.Step() : bind_rc;
  if (rc != SQLITE_DONE) return std::unexpected(ErrorFromSqlite(rc, db, context));
  return core::OkStatus();
}

// Reads a task_rollup row in kTaskColumns order.
void ReadTask(const Statement& st, int64_t* call_cost, std::optional<Terminal>* terminal) {
  *call_cost = st.ColumnInt(0);
  terminal->reset();
  if (st.ColumnIsNull(1)) return;
  Terminal t;
  t.time = st.ColumnInt(1);
  t.event_id = st.ColumnText(2);
  t.agent = st.ColumnText(3);
  t.product = st.ColumnText(4);
  t.type = st.ColumnText(5);
  t.status = st.ColumnText(6);
  t.total_cost = st.ColumnOptInt(7);
  t.duration = st.ColumnOptInt(8);
  t.steps = st.ColumnOptInt(9);
  t.quality = st.ColumnOptInt(10);
  *terminal = std::move(t);
}

}  // namespace

core::Status RollupWriter::Flush(sqlite3* db) {
  State& s = *state_;
  struct ClearOnExit {
    RollupWriter* w;
    ~ClearOnExit() { w->Clear(); }
  } clear_on_exit{this};

  if (!s.agents.empty()) {
    // Hourly sums, then the same folded per day.
    std::unordered_map<AgentKey, AgentSums, AgentKeyHash> days;
    for (const auto& [k, v] : s.agents) {
      AgentSums& d =
          days[AgentKey{s.calendar.DayBucket(k.bucket), k.agent, k.model, k.provider}];
      d.calls += v.calls;
      d.input += v.input;
      d.output += v.output;
      d.cached += v.cached;
      d.cost += v.cost;
      d.latency += v.latency;
      d.errors += v.errors;
    }
    TALLY_RETURN_IF_ERROR(Prepared(db, s.agent_upsert, kAgentUpsert, "agent_costs_hourly: upsert"));
    TALLY_RETURN_IF_ERROR(
        Prepared(db, s.agent_daily_upsert, AgentDailyUpsert(), "agent_costs_daily: upsert"));
    for (auto [map, st, context] :
         {std::tuple{&s.agents, &s.agent_upsert, "agent_costs_hourly: upsert"},
          std::tuple{&days, &s.agent_daily_upsert, "agent_costs_daily: upsert"}}) {
      for (const auto& [k, v] : *map) {
        ScopedReset reset(*st);
        int rc = st->BindInt(1, k.bucket) | st->BindText(2, k.agent) | st->BindText(3, k.model) |
                 st->BindText(4, k.provider) | st->BindInt(5, v.calls) | st->BindInt(6, v.input) |
                 st->BindInt(7, v.output) | st->BindInt(8, v.cached) | st->BindInt(9, v.cost) |
                 st->BindInt(10, v.latency) | st->BindInt(11, v.errors);
        TALLY_RETURN_IF_ERROR(Run(db, *st, rc, context));
      }
    }
  }

  if (!s.customers.empty()) {
    TALLY_RETURN_IF_ERROR(
        Prepared(db, s.customer_insert, kCustomerInsert, "revenue_daily_customers: insert"));
    Statement& st = s.customer_insert;
    for (const CustomerKey& k : s.customers) {
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.group.bucket) | st.BindText(2, k.group.product) |
               st.BindText(3, k.group.type) | st.BindText(4, k.customer);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "revenue_daily_customers: insert"));
      // A customer new to the group (not seen in an earlier transaction).
      if (sqlite3_changes(db) > 0) ++s.revenue[k.group].new_customers;
    }
  }
  if (!s.revenue.empty()) {
    TALLY_RETURN_IF_ERROR(Prepared(db, s.revenue_upsert, kRevenueUpsert, "revenue_daily: upsert"));
    Statement& st = s.revenue_upsert;
    for (const auto& [k, v] : s.revenue) {
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.type) |
               st.BindInt(4, v.gross) | st.BindInt(5, v.refunds) | st.BindInt(6, v.net) |
               st.BindInt(7, v.count) | st.BindInt(8, v.new_customers);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "revenue_daily: upsert"));
    }
  }

  if (!s.infra.empty()) {
    TALLY_RETURN_IF_ERROR(Prepared(db, s.infra_upsert, kInfraUpsert, "infra_costs_daily: upsert"));
    Statement& st = s.infra_upsert;
    for (const auto& [k, v] : s.infra) {
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.cost_type) |
               st.BindInt(4, v.amount) | st.BindInt(5, v.count);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "infra_costs_daily: upsert"));
    }
  }

  if (!s.growth.empty()) {
    TALLY_RETURN_IF_ERROR(Prepared(db, s.growth_upsert, kGrowthUpsert, "growth_daily: upsert"));
    Statement& st = s.growth_upsert;
    for (const auto& [k, v] : s.growth) {
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.channel) |
               st.BindText(4, k.metric) | st.BindInt(5, v.sum) | st.BindInt(6, v.count) |
               st.BindInt(7, v.last_time) | st.BindText(8, v.last_event_id) |
               st.BindInt(9, v.last_value);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "growth_daily: upsert"));
    }
  }

  if (!s.ops.empty()) {
    TALLY_RETURN_IF_ERROR(Prepared(db, s.ops_upsert, kOpsUpsert, "ops_daily: upsert"));
    Statement& st = s.ops_upsert;
    for (const auto& [k, v] : s.ops) {
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.kind) |
               st.BindInt(4, v.count) | st.BindInt(5, v.failures) | st.BindInt(6, v.latency) |
               st.BindInt(7, v.latency_n);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "ops_daily: upsert"));
    }
  }

  if (s.tasks.empty()) return core::OkStatus();
  // Per task: its contribution before this call (stored terminal, stored
  // calls) and after (latest terminal, calls including this call's); the
  // difference goes to the task_costs_daily rows of the two terminals.
  TALLY_RETURN_IF_ERROR(
      Prepared(db, s.task_calls_upsert, TaskCallsUpsert(), "task_rollup: add calls"));
  TALLY_RETURN_IF_ERROR(Prepared(db, s.task_select, TaskSelect(), "task_rollup: read"));
  TALLY_RETURN_IF_ERROR(
      Prepared(db, s.task_terminal_upsert, kTaskTerminalUpsert, "task_rollup: set terminal"));
  std::unordered_map<TaskDayKey, TaskDaySums, TaskDayKeyHash> days;
  for (const auto& [task_id, pending] : s.tasks) {
    int64_t calls_after = 0;
    std::optional<Terminal> stored;
    if (pending.call_count > 0) {
      Statement& st = s.task_calls_upsert;
      ScopedReset reset(st);
      int rc = st.BindText(1, task_id) | st.BindInt(2, pending.call_cost) |
               st.BindInt(3, pending.call_count);
      if (rc == SQLITE_OK) rc = st.Step();
      if (rc != SQLITE_ROW)
        return std::unexpected(ErrorFromSqlite(rc, db, "task_rollup: add calls"));
      ReadTask(st, &calls_after, &stored);
      TALLY_RETURN_IF_ERROR(Run(db, st, SQLITE_OK, "task_rollup: add calls"));
    } else {
      Statement& st = s.task_select;
      ScopedReset reset(st);
      int rc = st.BindText(1, task_id);
      if (rc == SQLITE_OK) rc = st.Step();
      if (rc == SQLITE_ROW) {
        ReadTask(st, &calls_after, &stored);
      } else if (rc != SQLITE_DONE) {
        return std::unexpected(ErrorFromSqlite(rc, db, "task_rollup: read"));
      }
    }
    const int64_t calls_before = calls_after - pending.call_cost;
    const Terminal* after = stored ? &*stored : nullptr;
    std::optional<Terminal> incoming;
    if (pending.terminal != nullptr &&
        (!stored || Later(core::ToMicros(pending.terminal->time), pending.terminal->event_id,
                          stored->time, stored->event_id))) {
      incoming = FromEvent(*pending.terminal);
      after = &*incoming;
      Statement& st = s.task_terminal_upsert;
      ScopedReset reset(st);
      const Terminal& t = *incoming;
      int rc = st.BindText(1, task_id) | st.BindInt(2, t.time) | st.BindText(3, t.event_id) |
               st.BindText(4, t.agent) | st.BindText(5, t.product) | st.BindText(6, t.type) |
               st.BindText(7, t.status) | st.BindOptInt(8, t.total_cost) |
               st.BindOptInt(9, t.duration) | st.BindOptInt(10, t.steps) |
               st.BindOptInt(11, t.quality);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "task_rollup: set terminal"));
    }
    if (stored) days[DayKeyOf(s.calendar, *stored)].Add(Contribution(*stored, calls_before), -1);
    if (after != nullptr) days[DayKeyOf(s.calendar, *after)].Add(Contribution(*after, calls_after), +1);
  }

  TALLY_RETURN_IF_ERROR(
      Prepared(db, s.task_day_upsert, kTaskDayUpsert, "task_costs_daily: upsert"));
  TALLY_RETURN_IF_ERROR(
      Prepared(db, s.task_day_delete, kTaskDayDelete, "task_costs_daily: delete"));
  for (const auto& [k, v] : days) {
    if (v.IsZero()) continue;
    int64_t remaining = 0;
    {
      Statement& st = s.task_day_upsert;
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.agent) |
               st.BindText(4, k.type) | st.BindText(5, k.status) | st.BindInt(6, v.count) |
               st.BindInt(7, v.cost) | st.BindInt(8, v.llm) | st.BindInt(9, v.tool) |
               st.BindInt(10, v.duration) | st.BindInt(11, v.steps) | st.BindInt(12, v.steps_n) |
               st.BindInt(13, v.quality) | st.BindInt(14, v.quality_n);
      if (rc == SQLITE_OK) rc = st.Step();
      if (rc != SQLITE_ROW) {
        return std::unexpected(ErrorFromSqlite(rc, db, "task_costs_daily: upsert"));
      }
      remaining = st.ColumnInt(0);
      TALLY_RETURN_IF_ERROR(Run(db, st, SQLITE_OK, "task_costs_daily: upsert"));
    }
    // A row whose last task moved to another row (a later terminal event)
    // goes, so the table holds exactly what a rebuild would produce.
    if (remaining == 0) {
      Statement& st = s.task_day_delete;
      ScopedReset reset(st);
      int rc = st.BindInt(1, k.bucket) | st.BindText(2, k.product) | st.BindText(3, k.agent) |
               st.BindText(4, k.type) | st.BindText(5, k.status);
      TALLY_RETURN_IF_ERROR(Run(db, st, rc, "task_costs_daily: delete"));
    }
  }
  return core::OkStatus();
}

}  // namespace tally::store::sqlite
