#include "live/redis/redis_accumulators.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <variant>

#include "live/redis/redis_script.h"

namespace tally::live::redis {
namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;
constexpr std::int64_t kHourMinutes = 60;

std::int64_t MinuteOf(core::Timestamp t) {
  std::int64_t us = core::ToMicros(t);
  return us >= 0 ? us / kMinuteUs : (us - kMinuteUs + 1) / kMinuteUs;
}

core::Error BadReply(const std::string& op) {
  return core::Error::Unavailable(fmt::format("redis EVALSHA ({}): unexpected reply shape", op));
}

// The field of an agent's kill switch in P:pause ("factory" is the factory's).
std::string PauseField(const std::string& agent_id) { return "agent:" + agent_id; }

bool IsInt(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_INTEGER; }

std::string Str(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string(r->str, r->len)
             : std::string();
}

// An array reply of at least n integers.
bool Ints(const redisReply* r, size_t n) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (!IsInt(r->element[i])) return false;
  }
  return true;
}

}  // namespace

core::Result<std::unique_ptr<RedisAccumulators>> RedisAccumulators::Create(const core::Clock& clock,
                                                                           core::BusinessCalendar calendar,
                                                                           RedisOptions options) {
  if (options.prefix.empty()) return std::unexpected(core::Error::InvalidArgument("redis key prefix is empty"));
  auto url = ParseRedisUrl(options.url);
  if (!url) return std::unexpected(url.error());
  RedisConnection::Options co;
  co.url = *url;
  co.pool_size = options.pool_size;
  auto conn = RedisConnection::Connect(co);
  if (!conn) return std::unexpected(conn.error());
  auto sha = (*conn)->LoadScript(kLiveScript);
  if (!sha) return std::unexpected(sha.error());
  return std::unique_ptr<RedisAccumulators>(
      new RedisAccumulators(clock, std::move(calendar), std::move(options), std::move(*conn), std::move(*sha)));
}

std::vector<std::string> RedisAccumulators::Head(const std::string& op, core::Timestamp now) {
  std::int64_t day_left =
      std::max<std::int64_t>(1, (core::ToMicros(calendar_.NextDayStart(now)) - core::ToMicros(now) + 999'999) /
                                    1'000'000);
  return {op,
          options_.prefix,
          std::to_string(core::ToMicros(now)),
          std::to_string(MinuteOf(now)),
          std::to_string(core::ToMicros(calendar_.DayStart(now))),
          std::to_string(core::ToMicros(calendar_.MonthStart(now))),
          std::to_string(day_left)};
}

core::Result<Reply> RedisAccumulators::Eval(const std::string& op, std::vector<std::string> args) {
  (void)op;
  return conn_->EvalSha(sha_, kLiveScript, args);
}

core::Status RedisAccumulators::Apply(std::span<const model::Event* const> events) {
  core::Timestamp now = clock_.Now();
  std::vector<std::string> args = Head("apply", now);
  // Day starts: most events fall in one day; cache the last one.
  std::int64_t day_from = 0, day_to = 0;
  auto day_of = [&](core::Timestamp t) {
    std::int64_t us = core::ToMicros(t);
    if (!(us >= day_from && us < day_to)) {
      day_from = core::ToMicros(calendar_.DayStart(t));
      day_to = core::ToMicros(calendar_.NextDayStart(t));
    }
    return std::to_string(day_from);
  };
  size_t records = 0;
  for (const model::Event* e : events) {
    if (const auto* call = std::get_if<model::LlmCall>(e)) {
      args.insert(args.end(), {"L", call->agent_id, std::to_string(MinuteOf(call->time)), day_of(call->time),
                               std::to_string(call->cost_usd.micros()),
                               call->status == model::LlmStatus::kSuccess ? "0" : "1",
                               call->reservation_id.value_or("")});
      ++records;
    } else if (const auto* rev = std::get_if<model::RevenueEvent>(e)) {
      if (!rev->amount_usd) continue;
      args.insert(args.end(), {"R", rev->product_id, day_of(rev->time),
                               std::to_string(core::ToMicros(calendar_.MonthStart(rev->time))),
                               std::to_string(rev->amount_usd->micros())});
      ++records;
    }
  }
  if (records == 0) return core::OkStatus();
  auto r = Eval("apply", std::move(args));
  if (!r) return std::unexpected(r.error());
  return core::OkStatus();
}

core::Status RedisAccumulators::Rebuild(store::Store& store) {
  core::Timestamp now = clock_.Now();
  std::int64_t now_min = MinuteOf(now);
  core::Timestamp hour_from = core::FromMicros((now_min - (kHourMinutes - 1)) * kMinuteUs);
  core::Timestamp today = calendar_.DayStart(now);
  core::Timestamp llm_from = std::min(today, hour_from);
  core::Timestamp revenue_from = std::min(today, calendar_.MonthStart(now));
  // Minute buckets split exactly at business-day boundaries (whole minutes).
  auto spend = store.LlmSpendSince(llm_from, std::chrono::minutes(1));
  if (!spend) return std::unexpected(spend.error());
  auto revenue = store.RevenueSince(revenue_from, std::chrono::minutes(1));
  if (!revenue) return std::unexpected(revenue.error());

  struct AgentAgg {
    std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> minutes;  // minute -> cost, errors
    std::map<std::int64_t, std::int64_t> days;
  };
  std::map<std::string, AgentAgg> agents;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> products;
  std::map<std::int64_t, std::int64_t> months;
  for (const auto& b : *spend) {
    AgentAgg& a = agents[b.agent_id];
    std::int64_t m = MinuteOf(b.bucket_start);
    if (m > now_min - kHourMinutes) {
      auto& slot = a.minutes[m];
      slot.first += b.cost_micros;
      slot.second += b.errors;
    }
    a.days[core::ToMicros(calendar_.DayStart(b.bucket_start))] += b.cost_micros;
  }
  for (const auto& b : *revenue) {
    products[b.product_id][core::ToMicros(calendar_.DayStart(b.bucket_start))] += b.amount_micros;
    months[core::ToMicros(calendar_.MonthStart(b.bucket_start))] += b.amount_micros;
  }
  std::vector<std::string> args = Head("rebuild", now);
  for (const auto& [id, a] : agents) {
    args.insert(args.end(), {"A", id, std::to_string(a.minutes.size())});
    for (const auto& [m, v] : a.minutes) {
      args.insert(args.end(), {std::to_string(m), std::to_string(v.first), std::to_string(v.second)});
    }
    args.push_back(std::to_string(a.days.size()));
    for (const auto& [d, v] : a.days) args.insert(args.end(), {std::to_string(d), std::to_string(v)});
  }
  for (const auto& [id, days] : products) {
    args.insert(args.end(), {"P", id, std::to_string(days.size())});
    for (const auto& [d, v] : days) args.insert(args.end(), {std::to_string(d), std::to_string(v)});
  }
  for (const auto& [m, v] : months) args.insert(args.end(), {"M", std::to_string(m), std::to_string(v)});
  // The kill switches too: the store is their record (a flushed or restarted
  // Redis gets them back here).
  auto factory = store.GetFactoryKillSwitch();
  if (!factory) return std::unexpected(factory.error());
  if (*factory && (*factory)->paused) args.insert(args.end(), {"S", "factory"});
  auto all_agents = store.ListAgents();
  if (!all_agents) return std::unexpected(all_agents.error());
  for (const auto& a : *all_agents) {
    if (a.status == "paused") args.insert(args.end(), {"S", PauseField(a.id)});
  }
  auto r = Eval("rebuild", std::move(args));
  if (!r) return std::unexpected(r.error());
  return core::OkStatus();
}

core::Result<bool> RedisAccumulators::SeedIfCold(store::Store& store) {
  std::string marker = options_.prefix + ":meta:seeded";
  auto taken = conn_->Command({"SET", marker, core::FormatRfc3339(clock_.Now()), "NX"});
  if (!taken) return std::unexpected(taken.error());
  if ((*taken)->type == REDIS_REPLY_NIL) return false;  // warm: another node (or an earlier start) seeded
  if (auto s = Rebuild(store); !s) {
    (void)conn_->Command({"DEL", marker});  // let the next start try again
    return std::unexpected(s.error());
  }
  return true;
}

core::Result<LiveSnapshot> RedisAccumulators::Snapshot() {
  LiveSnapshot snap;
  snap.at = clock_.Now();
  snap.day_start = calendar_.DayStart(snap.at);
  auto r = Eval("snapshot", Head("snapshot", snap.at));
  if (!r) return std::unexpected(r.error());
  const redisReply* top = r->get();
  if (top->type != REDIS_REPLY_ARRAY || top->elements != 3 || top->element[0]->type != REDIS_REPLY_ARRAY ||
      top->element[1]->type != REDIS_REPLY_ARRAY || !IsInt(top->element[2])) {
    return std::unexpected(BadReply("snapshot"));
  }
  const redisReply* ag = top->element[0];
  if (ag->elements % 7 != 0) return std::unexpected(BadReply("snapshot"));
  for (size_t i = 0; i < ag->elements; i += 7) {
    for (size_t j = 1; j < 7; ++j) {
      if (!IsInt(ag->element[i + j])) return std::unexpected(BadReply("snapshot"));
    }
    AgentCounters c;
    c.agent_id = Str(ag->element[i]);
    c.spend_today = ag->element[i + 1]->integer;
    c.spend_1h = ag->element[i + 2]->integer;
    c.errors_5m = ag->element[i + 3]->integer;
    c.velocity_per_min = ag->element[i + 4]->integer;
    c.reserved = ag->element[i + 5]->integer;
    c.reservations = ag->element[i + 6]->integer;
    if (c.spend_today == 0 && c.spend_1h == 0 && c.errors_5m == 0 && c.reserved == 0 && c.reservations == 0) {
      continue;
    }
    snap.agents.push_back(std::move(c));
  }
  std::sort(snap.agents.begin(), snap.agents.end(),
            [](const auto& x, const auto& y) { return x.agent_id < y.agent_id; });
  const redisReply* pr = top->element[1];
  if (pr->elements % 2 != 0) return std::unexpected(BadReply("snapshot"));
  for (size_t i = 0; i < pr->elements; i += 2) {
    if (!IsInt(pr->element[i + 1])) return std::unexpected(BadReply("snapshot"));
    snap.products.push_back({Str(pr->element[i]), pr->element[i + 1]->integer});
  }
  std::sort(snap.products.begin(), snap.products.end(),
            [](const auto& x, const auto& y) { return x.product_id < y.product_id; });
  snap.revenue_mtd = top->element[2]->integer;
  return snap;
}

core::Result<AgentCounters> RedisAccumulators::Agent(const std::string& agent_id) {
  std::vector<std::string> args = Head("agent", clock_.Now());
  args.push_back(agent_id);
  auto r = Eval("agent", std::move(args));
  if (!r) return std::unexpected(r.error());
  if (!Ints(r->get(), 6)) return std::unexpected(BadReply("agent"));
  redisReply** e = (*r)->element;
  AgentCounters c;
  c.agent_id = agent_id;
  c.spend_today = e[0]->integer;
  c.spend_1h = e[1]->integer;
  c.errors_5m = e[2]->integer;
  c.velocity_per_min = e[3]->integer;
  c.reserved = e[4]->integer;
  c.reservations = e[5]->integer;
  return c;
}

core::Result<ReserveResult> RedisAccumulators::CheckAndReserve(const ReserveRequest& r) {
  if (r.agent_id.empty()) return std::unexpected(core::Error::InvalidArgument("agent_id is empty"));
  if (r.estimate < 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("estimate must be >= 0 micro-USD, got {}", r.estimate)));
  }
  if (r.reserve && r.reservation_id.empty()) {
    return std::unexpected(core::Error::InvalidArgument("reservation_id is empty"));
  }
  core::Timestamp now = clock_.Now();
  // Garbage collection of the reservation keys: well after the expiry, which
  // the script enforces from the caller's clock.
  std::int64_t gc_s = std::max<std::int64_t>(0, (core::ToMicros(r.expires_at) - core::ToMicros(now)) / 1'000'000) + 3600;
  std::vector<std::string> args = Head("check", now);
  args.insert(args.end(), {r.agent_id, std::to_string(r.estimate), r.limit ? std::to_string(*r.limit) : "",
                           r.reserve ? "1" : "0", r.reservation_id, std::to_string(core::ToMicros(r.expires_at)),
                           r.runaway.enabled ? "1" : "0", std::to_string(r.runaway.absolute_per_min),
                           std::to_string(r.runaway.multiple), std::to_string(r.runaway.floor_per_min),
                           std::to_string(gc_s)});
  auto reply = Eval("check", std::move(args));
  if (!reply) return std::unexpected(reply.error());
  if (!Ints(reply->get(), 7)) return std::unexpected(BadReply("check"));
  redisReply** e = (*reply)->element;
  if (e[0]->integer == 1) {
    return std::unexpected(
        core::Error::Conflict(fmt::format("reservation_id '{}' already exists", r.reservation_id)));
  }
  ReserveResult out;
  switch (e[1]->integer) {
    case 0: out.verdict = Verdict::kAllowed; break;
    case 1: out.verdict = Verdict::kBudgetExceeded; break;
    case 2: out.verdict = Verdict::kRunaway; break;
    case 3: out.verdict = Verdict::kAgentPaused; break;
    case 4: out.verdict = Verdict::kFactoryPaused; break;
    default: return std::unexpected(BadReply("check"));
  }
  out.reserved = e[2]->integer == 1;
  out.spent = e[3]->integer;
  out.reserved_total = e[4]->integer;
  out.velocity_per_min = e[5]->integer;
  out.hourly_avg_per_min = e[6]->integer;
  return out;
}

core::Status RedisAccumulators::SetPause(const std::string& target, bool paused) {
  std::vector<std::string> args = Head("pause", clock_.Now());
  args.insert(args.end(), {target == store::kFactoryTarget ? std::string("factory") : PauseField(target),
                           paused ? "1" : "0"});
  auto r = Eval("pause", std::move(args));
  if (!r) return std::unexpected(r.error());
  return core::OkStatus();
}

core::Status RedisAccumulators::Ping() {
  auto r = conn_->Command({"PING"});
  if (!r) return std::unexpected(r.error());
  return core::OkStatus();
}

core::Status RedisAccumulators::Release(const std::string& reservation_id) {
  std::vector<std::string> args = Head("release", clock_.Now());
  args.push_back(reservation_id);
  auto r = Eval("release", std::move(args));
  if (!r) return std::unexpected(r.error());
  return core::OkStatus();
}

}  // namespace tally::live::redis
