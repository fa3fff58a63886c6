// Internals of DemoFactory shared by its .cc files: the seeded random source,
// the static description of the demo factory (agents, products, infra) and
// the day-by-day event generator. Not part of the ingest API.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "core/time.h"
#include "ingest/sources/demo_factory.h"
#include "model/event.h"
#include "model/price_table.h"

namespace tally::ingest::demo {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;
inline constexpr std::chrono::hours kDay{24};

// USD rounded half away from zero to `decimals` (<= 6) places, exactly.
inline core::Money Usd(double usd, int decimals) {
  const double unit = std::pow(10.0, decimals);
  const auto scale = static_cast<std::int64_t>(std::llround(std::pow(10.0, 6 - decimals)));
  return core::Money::FromMicros(std::llround(usd * unit) * scale);
}

// Distributions are written out here rather than taken from <random> because
// the standard leaves their algorithms to the implementation: the same seed
// gives the same demo data with any standard library (only libm rounding in
// exp/log/cos could ever differ between platforms).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t Bits() { return engine_(); }
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  std::int64_t Int(std::int64_t lo, std::int64_t hi) {  // inclusive; bias is negligible here
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Normal(double mean, double sd) {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log is finite
    const double u2 = Uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double LogNormal(double median, double sigma) { return median * std::exp(Normal(0.0, sigma)); }
  std::int64_t Poisson(double mean);
  // Index drawn with probability proportional to weights[i].
  size_t Pick(std::span<const double> weights);

 private:
  std::mt19937_64 engine_;
};

// Independent streams, so that e.g. changing `scale` (more LLM calls) leaves
// revenue and growth untouched.
std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t stream);
inline constexpr std::uint64_t kEntityStream = 1;
inline constexpr std::uint64_t kWorkStream = 2;
inline constexpr std::uint64_t kBusinessStream = 3;
inline constexpr std::uint64_t kOpsStream = 4;

// Model families; each resolves to the first candidate the price table knows.
enum class Family { kOpus, kSonnet, kGpt4o, kMini, kHaiku };
inline constexpr int kFamilyCount = 5;
// Frontier models are slower and (in evals) a little better.
enum class Tier { kFrontier, kMid, kCheap };

struct ResolvedModel {
  std::string name;
  std::string provider;
  Tier tier = Tier::kMid;
};

struct TaskMix {
  std::string_view type;
  double share;
  double median_steps;
};

struct AgentSpec {
  std::string_view id;
  std::string_view role;
  Family primary;
  Family secondary;
  double primary_share;
  double daily_budget_usd;
  double calls_per_day;  // at scale 1, at the end of the window, on a weekday
  double input_median;
  double output_median;
  double cache_share;     // mean share of input read from the prompt cache
  double error_rate;
  double in_task_share;   // share of calls made inside tasks
  double product_share;   // share of tasks done for a product (0: cross-cutting agent)
  std::vector<TaskMix> tasks;
};

struct InfraSpec {
  std::string_view cost_type;
  std::string_view provider;
  bool monthly;    // charged on the 1st of the month; else daily
  double amount_usd;  // <= 4 decimals
};

struct ProductSpec {
  std::string_view name;
  std::string_view slug;
  std::string_view type;
  std::string_view revenue_model;
  std::string_view channel_type;
  int launched_days_before_end;
  int build_days;
  double pageviews_at_end;  // per day at the end of the window
  double monthly_growth;    // traffic growth per 30 days
  double ramp_days;         // traffic ramp after launch
  std::array<double, 5> channel_mix;  // organic, reddit, twitter, referral, direct
  double signup_rate;       // signups per pageview
  double conversion_rate;   // paying conversions per signup (0: never earns)
  int initial_customers;    // paying customers at the window start if launched before it
  std::vector<double> prices;       // subscription plans or one-time prices (USD)
  std::vector<double> price_weights;
  double refund_rate;
  bool has_users;           // users / dau / mau gauges
  bool seo;                 // keyword_top10 and backlinks matter
  std::vector<InfraSpec> infra;
};

const std::vector<AgentSpec>& AgentSpecs();
const std::vector<ProductSpec>& ProductSpecs();
const std::vector<InfraSpec>& SharedInfraSpecs();

struct AgentPlan {
  const AgentSpec* spec;
  int primary;    // index into Catalog::models (indices, not pointers: Catalog moves)
  int secondary;
  double mean_steps;  // expected calls per task
};

struct ProductPlan {
  const ProductSpec* spec;
  std::string id;
  std::string channel_id;
  core::Timestamp created_at;
  core::Timestamp launched_at;
};

// Everything fixed by (seed, days, end, price table); built once per factory.
struct Catalog {
  DemoEntities entities;
  std::array<std::optional<ResolvedModel>, kFamilyCount> models;
  std::vector<AgentPlan> agents;
  std::vector<ProductPlan> products;
  std::optional<core::Error> error;  // why Generate cannot run
  int incident_day = -1;             // the day research-agent loops (-1: none)
};

Catalog BuildCatalog(const DemoOptions& options, const model::PriceTable& prices);

// Produces one day's events. Days must be generated in order 0..days-1
// because subscribers, users and pending refunds carry over.
class DayGenerator {
 public:
  DayGenerator(const DemoOptions& options, const model::PriceTable& prices, const Catalog& catalog);

  // Appends the events of day `day` (covering [start, start + 24h)) to out.
  // Some may fall after the day (a task running past midnight, a refund days
  // later); the caller holds those back until their time.
  core::Status GenerateDay(int day, std::vector<model::Event>& out);

 private:
  struct Subscriber {
    std::string customer_id;
    double amount;  // per month
    core::Timestamp next_bill;
    std::string plan;
    bool cancelled = false;
  };
  struct ProductState {
    std::vector<Subscriber> subscribers;
    double users = 0;
    double email_subscribers = 0;
    double keywords = 0;
    bool started = false;
  };

  core::Status AgentDay(const AgentPlan& agent, core::Timestamp start, double volume,
                        std::vector<model::Event>& out);
  core::Status Task(const AgentPlan& agent, core::Timestamp start, std::string_view task_type,
                    std::int64_t steps, double gap_median_s, const char* incident,
                    std::vector<model::Event>& out);
  core::Result<model::LlmCall> Call(const AgentPlan& agent, const ResolvedModel& model,
                                    core::Timestamp time, const std::string* task_id, int step,
                                    bool force_error);
  const ProductPlan* PickProduct(const AgentPlan& agent, core::Timestamp t);

  void ProductDay(size_t index, core::Timestamp start, std::vector<model::Event>& out);
  void Convert(const ProductPlan& p, ProductState& state, std::string_view channel, core::Timestamp start,
               std::vector<model::Event>& out);
  void InfraDay(core::Timestamp start, std::vector<model::Event>& out);
  // Each launched product's deploys (ops_events), as GitHub would report them.
  void OpsDay(core::Timestamp start, std::vector<model::Event>& out);
  void UptimeDay(const ProductPlan& p, core::Timestamp start, std::vector<model::Event>& out);
  // Appends the event and returns its event_id.
  std::string Revenue(const ProductPlan& p, core::Timestamp t, model::RevenueEventType type,
               std::optional<double> amount, const std::string& customer, std::string metadata,
               std::vector<model::Event>& out);
  void Growth(const ProductPlan& p, core::Timestamp t, std::string_view channel,
              std::string_view metric, double value, std::vector<model::Event>& out);
  core::Timestamp TimeInDay(Rng& rng, core::Timestamp start);
  std::string CustomerId();
  std::string NextId(std::string_view kind, std::int64_t& counter);

  const DemoOptions& options_;
  const model::PriceTable& prices_;
  const Catalog& catalog_;
  Rng work_;      // LLM calls and tasks
  Rng business_;  // revenue, growth, infra
  Rng ops_;       // deploys (its own stream: adding it changed no other demo number)
  std::vector<ProductState> product_state_;
  std::array<double, 24> hour_cdf_{};  // diurnal pattern, by hour offset from a day's start
  std::int64_t n_llm_ = 0, n_task_ = 0, n_rev_ = 0, n_infra_ = 0, n_growth_ = 0, n_ops_ = 0;
};

}  // namespace tally::ingest::demo
