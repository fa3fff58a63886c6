// The demo factory's work: each agent's tasks and LLM calls for one day, and
// the day driver (DayGenerator::GenerateDay).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/ids.h"
#include "ingest/sources/demo_factory_internal.h"

namespace tally::ingest::demo {
namespace {

using model::Event;
using std::chrono::milliseconds;

// Relative activity by UTC hour: agents follow the operators' working day
// (Europe/US overlap) but never stop.
constexpr std::array<double, 24> kHourWeights = {0.35, 0.30, 0.28, 0.28, 0.30, 0.40, 0.60, 0.85,
                                                 1.10, 1.30, 1.40, 1.45, 1.40, 1.45, 1.50, 1.45,
                                                 1.35, 1.20, 1.05, 0.90, 0.75, 0.60, 0.50, 0.42};

constexpr std::array<std::string_view, 4> kErrorTypes = {"api_error", "server_error",
                                                         "context_length_exceeded", "invalid_request"};

std::int64_t Clamp(double v, std::int64_t lo, std::int64_t hi) {
  return std::clamp<std::int64_t>(std::llround(v), lo, hi);
}

double TierQuality(Tier tier) {
  switch (tier) {
    case Tier::kFrontier: return 0.90;
    case Tier::kMid: return 0.86;
    case Tier::kCheap: return 0.80;
  }
  return 0.85;
}

// Latency model: time to first token plus generation speed, by tier.
double TierLatencyMs(Tier tier, std::int64_t output_tokens) {
  switch (tier) {
    case Tier::kFrontier: return 1200 + 20.0 * output_tokens;
    case Tier::kMid: return 600 + 11.0 * output_tokens;
    case Tier::kCheap: return 300 + 6.0 * output_tokens;
  }
  return 1000;
}

// Tool spend (web search, SEO APIs, sandboxes) a task adds on top of its LLM
// calls, in whole 0.0001 USD so the task total keeps 4 decimals.
std::int64_t ToolCostMicros(Rng& rng, std::string_view task_type) {
  if ((task_type == "research" || task_type == "market-research") && rng.Chance(0.4)) {
    return rng.Int(1, 10) * 5'000;  // $0.005 per search
  }
  if (task_type == "keyword-research" && rng.Chance(0.5)) return 20'000;
  if ((task_type == "build" || task_type == "write-tests") && rng.Chance(0.1)) return rng.Int(1, 5) * 10'000;
  return 0;
}

bool RoleIn(std::string_view role, std::initializer_list<std::string_view> roles) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace

DayGenerator::DayGenerator(const DemoOptions& options, const model::PriceTable& prices, const Catalog& catalog)
    : options_(options),
      prices_(prices),
      catalog_(catalog),
      work_(StreamSeed(options.seed, kWorkStream)),
      business_(StreamSeed(options.seed, kBusinessStream)),
      ops_(StreamSeed(options.seed, kOpsStream)),
      product_state_(catalog.products.size()) {
  // Every day starts at the same UTC hour as `end`.
  const auto start_hour =
      std::chrono::duration_cast<hours>(options.end - core::FloorToDay(options.end)).count();
  double total = 0;
  for (int h = 0; h < 24; ++h) {
    total += kHourWeights[(start_hour + h) % 24];
    hour_cdf_[h] = total;
  }
}

std::string DayGenerator::NextId(std::string_view kind, std::int64_t& counter) {
  return fmt::format("demo-{}-{}-{}", options_.seed, kind, ++counter);
}

core::Timestamp DayGenerator::TimeInDay(Rng& rng, core::Timestamp start) {
  const double x = rng.Uniform() * hour_cdf_.back();
  const auto h = std::upper_bound(hour_cdf_.begin(), hour_cdf_.end(), x) - hour_cdf_.begin();
  return start + hours(std::min<std::int64_t>(h, 23)) + microseconds(rng.Int(0, 3'600'000'000LL - 1));
}

std::string DayGenerator::CustomerId() { return fmt::format("cus_{:014x}", business_.Bits() >> 8); }

core::Status DayGenerator::GenerateDay(int day, std::vector<Event>& out) {
  const core::Timestamp start = options_.end - kDay * (options_.days - day);
  const core::Timestamp midnight = core::FloorToDay(start + kDay - microseconds(1));
  const std::chrono::weekday weekday{std::chrono::floor<std::chrono::days>(midnight)};
  const bool weekend = weekday == std::chrono::Saturday || weekday == std::chrono::Sunday;

  InfraDay(start, out);
  OpsDay(start, out);
  for (size_t i = 0; i < catalog_.products.size(); ++i) ProductDay(i, start, out);

  // Work grows ~10% a month towards the end of the window and dips at weekends.
  const double volume =
      options_.scale * (weekend ? 0.8 : 1.0) * std::exp(-0.003 * (options_.days - day - 1));
  for (const AgentPlan& agent : catalog_.agents) {
    TALLY_RETURN_IF_ERROR(AgentDay(agent, start, volume, out));
  }
  if (day == catalog_.incident_day) {
    for (const AgentPlan& agent : catalog_.agents) {
      if (agent.spec->id != "research-agent") continue;
      const core::Timestamp t = start + hours(work_.Int(9, 16)) + minutes(work_.Int(0, 59));
      TALLY_RETURN_IF_ERROR(Task(agent, t, "research", 150, 0.3, "runaway-loop", out));
    }
  }
  return core::OkStatus();
}

core::Status DayGenerator::AgentDay(const AgentPlan& agent, core::Timestamp start, double volume,
                                    std::vector<Event>& out) {
  const AgentSpec& spec = *agent.spec;
  const double calls = spec.calls_per_day * volume;
  const std::int64_t tasks = work_.Poisson(calls * spec.in_task_share / agent.mean_steps);
  const std::int64_t singles = work_.Poisson(calls * (1 - spec.in_task_share));
  std::array<double, 8> shares{};
  for (size_t i = 0; i < spec.tasks.size() && i < shares.size(); ++i) shares[i] = spec.tasks[i].share;
  for (std::int64_t i = 0; i < tasks; ++i) {
    const TaskMix& mix = spec.tasks[work_.Pick(std::span(shares).first(spec.tasks.size()))];
    const std::int64_t steps = Clamp(work_.LogNormal(mix.median_steps, 0.5), 1, 60);
    TALLY_RETURN_IF_ERROR(Task(agent, TimeInDay(work_, start), mix.type, steps, 1.5, nullptr, out));
  }
  for (std::int64_t i = 0; i < singles; ++i) {
    const int family = work_.Chance(spec.primary_share) ? agent.primary : agent.secondary;
    out.push_back(TALLY_TRY(Call(agent, *catalog_.models[family], TimeInDay(work_, start), nullptr, 0, false)));
  }
  return core::OkStatus();
}

core::Status DayGenerator::Task(const AgentPlan& agent, core::Timestamp start, std::string_view task_type,
                                std::int64_t steps, double gap_median_s, const char* incident,
                                std::vector<Event>& out) {
  const AgentSpec& spec = *agent.spec;
  const std::uint64_t hi = work_.Bits();
  const std::string task_id = core::UuidFromBits(hi, work_.Bits());
  const ProductPlan* product = work_.Chance(spec.product_share) ? PickProduct(agent, start) : nullptr;
  // One model per task run, as an agent is configured per run; this is what
  // the model-efficiency KPI compares.
  const ResolvedModel& model =
      *catalog_.models[work_.Chance(spec.primary_share) ? agent.primary : agent.secondary];
  const double outcome = work_.Uniform();
  model::TaskStatus status = outcome < 0.88   ? model::TaskStatus::kCompleted
                             : outcome < 0.96 ? model::TaskStatus::kFailed
                                              : model::TaskStatus::kEscalated;
  if (incident != nullptr) status = model::TaskStatus::kFailed;  // killed by its budget

  model::TaskEvent started;
  started.event_id = NextId("task", n_task_);
  started.time = start;
  started.task_id = task_id;
  started.agent_id = std::string(spec.id);
  if (product != nullptr) started.product_id = product->id;
  started.task_type = std::string(task_type);
  started.status = model::TaskStatus::kStarted;
  out.push_back(started);

  std::int64_t llm_micros = 0;
  core::Timestamp t = start + milliseconds(work_.Int(50, 500));
  core::Timestamp last_end = t;
  for (std::int64_t i = 0; i < steps; ++i) {
    const bool force_error = status == model::TaskStatus::kFailed && i == steps - 1 && work_.Chance(0.5);
    model::LlmCall call = TALLY_TRY(Call(agent, model, t, &task_id, static_cast<int>(i), force_error));
    llm_micros += call.cost_usd.micros();
    last_end = t + milliseconds(call.latency_ms);
    // Between calls the agent runs tools, reads files, waits on CI.
    t = last_end + milliseconds(Clamp(work_.LogNormal(gap_median_s * 1000, 1.0), 100, 60'000));
    out.push_back(std::move(call));
  }

  model::TaskEvent done = std::move(started);
  done.event_id = NextId("task", n_task_);
  done.time = last_end + milliseconds(work_.Int(100, 3000));
  done.status = status;
  done.duration_ms = std::chrono::duration_cast<milliseconds>(done.time - start).count();
  done.steps_count = steps;
  const std::int64_t tool_micros = ToolCostMicros(work_, task_type);
  // total_cost_usd keeps 4 decimals: the calls' sum rounded half-up to 0.0001.
  done.total_cost_usd = core::Money::FromMicros((llm_micros + 50) / 100 * 100 + tool_micros);
  if (status == model::TaskStatus::kCompleted) {
    done.quality_score_centi = Clamp(100 * work_.Normal(TierQuality(model.tier), 0.07), 50, 100);
  } else if (status == model::TaskStatus::kEscalated) {
    done.quality_score_centi = work_.Int(50, 70);
  }
  std::vector<std::string> meta;
  if (tool_micros > 0) {
    meta.push_back(fmt::format(R"("tool_cost_usd":"{}")", core::Money::FromMicros(tool_micros).ToString()));
  }
  if (status == model::TaskStatus::kEscalated) meta.push_back(R"("escalated_to":"human")");
  if (incident != nullptr) meta.push_back(fmt::format(R"("incident":"{}")", incident));
  if (!meta.empty()) done.metadata = fmt::format("{{{}}}", fmt::join(meta, ","));
  out.push_back(std::move(done));
  return core::OkStatus();
}

core::Result<model::LlmCall> DayGenerator::Call(const AgentPlan& agent, const ResolvedModel& model,
                                                core::Timestamp time, const std::string* task_id, int step,
                                                bool force_error) {
  const AgentSpec& spec = *agent.spec;
  model::LlmCall call;
  call.event_id = NextId("llm", n_llm_);
  call.time = time;
  call.agent_id = std::string(spec.id);
  if (task_id != nullptr) call.task_id = *task_id;
  call.model = model.name;
  call.provider = model.provider;

  if (force_error || work_.Chance(spec.error_rate)) {
    const double kind = work_.Uniform();
    call.status = kind < 0.5    ? model::LlmStatus::kError
                  : kind < 0.75 ? model::LlmStatus::kTimeout
                                : model::LlmStatus::kRateLimited;
  }
  // Context grows along a task as the agent feeds results back in; later
  // steps hit the prompt cache that the first one warmed.
  const double growth = 1.0 + 0.12 * std::min(step, 20);
  std::int64_t input = Clamp(work_.LogNormal(spec.input_median, 0.7) * growth, 500, 30'000);
  std::int64_t output = Clamp(work_.LogNormal(spec.output_median, 0.7), 50, 4'000);
  const double share = step == 0 ? work_.Normal(spec.cache_share * 0.5, 0.1)
                                 : work_.Normal(spec.cache_share * 1.1, 0.12);
  std::int64_t cached = static_cast<std::int64_t>(static_cast<double>(input) * std::clamp(share, 0.0, 0.9));
  std::int64_t latency = Clamp(TierLatencyMs(model.tier, output) * work_.LogNormal(1.0, 0.3), 300, 20'000);

  switch (call.status) {
    case model::LlmStatus::kSuccess:
      break;
    case model::LlmStatus::kError:  // rejected before any token is billed
      input = output = cached = 0;
      latency = work_.Int(300, 2'000);
      call.error_type = std::string(kErrorTypes[work_.Int(0, kErrorTypes.size() - 1)]);
      break;
    case model::LlmStatus::kTimeout:  // the prompt was processed and is billed
      output = work_.Int(0, output / 2);
      latency = work_.Int(15'000, 20'000);
      call.error_type = "timeout";
      break;
    case model::LlmStatus::kRateLimited:
      input = output = cached = 0;
      latency = work_.Int(300, 800);
      call.error_type = "rate_limit_exceeded";
      break;
  }
  call.input_tokens = input;
  call.output_tokens = output;
  call.cached_tokens = cached;
  call.latency_ms = latency;
  call.cost_usd = TALLY_TRY(prices_.Cost(call.model, input, output, cached));
  return call;
}

const ProductPlan* DayGenerator::PickProduct(const AgentPlan& agent, core::Timestamp t) {
  const std::string_view role = agent.spec->role;
  std::array<double, 16> weights{};
  const size_t n = std::min(catalog_.products.size(), weights.size());
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const ProductPlan& p = catalog_.products[i];
    if (p.created_at > t) continue;
    const bool launched = p.launched_at <= t;
    const bool fresh = launched && t - p.launched_at < kDay * 30;
    double w = 1;
    if (RoleIn(role, {"builder", "reviewer", "designer"})) {
      w = !launched ? 4 : fresh ? 2 : 1;  // building the new thing, maintaining the rest
    } else if (role == "marketer") {
      w = p.launched_at - kDay * 7 > t ? 0 : fresh ? 2 : 1;
      if (p.spec->type == "seo-site") w *= 1.5;
    } else if (role == "support") {
      if (!launched) continue;
      const std::string_view type = p.spec->type;
      w = type == "micro-saas" ? 3 : type == "seo-site" ? 0.2 : type == "digital-product" ? 1 : 2;
    }
    weights[i] = w;
    total += w;
  }
  if (total <= 0) return nullptr;
  return &catalog_.products[work_.Pick(std::span(weights).first(n))];
}

}  // namespace tally::ingest::demo
