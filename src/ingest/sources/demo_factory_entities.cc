// The demo factory's cast: agents, products, channels and infra, modelled on
// the seed's factory (kev, dash, mae, research-agent, ...), and the catalog
// built from them for one seed and window.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/ids.h"
#include "ingest/sources/demo_factory_internal.h"

namespace tally::ingest::demo {

std::int64_t Rng::Poisson(double mean) {
  if (mean <= 0) return 0;
  if (mean < 30) {  // Knuth: exact, and cheap for small means
    const double limit = std::exp(-mean);
    std::int64_t k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  // Large means (scaled-up benchmarks): the normal approximation is
  // indistinguishable here and O(1).
  return std::max<std::int64_t>(0, std::llround(Normal(mean, std::sqrt(mean))));
}

size_t Rng::Pick(std::span<const double> weights) {
  double total = 0;
  for (double w : weights) total += w;
  double x = Uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.size() - 1;
}

std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t stream) {
  // SplitMix64 finalizer: nearby seeds and streams give unrelated engines.
  std::uint64_t z = seed + stream * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const std::vector<AgentSpec>& AgentSpecs() {
  using F = Family;
  // Volumes and models are tuned so the daily total lands near the seed's
  // dashboard (~$50/day, research-agent, kev and code-review on top) with
  // agents typically at 10-60% of their budget on average and busy days
  // closer to it; research-agent's runaway day goes over.
  static const std::vector<AgentSpec> kAgents = {
      {"kev", "builder", F::kSonnet, F::kHaiku, 0.75, 20, 330, 6000, 700, 0.35, 0.015, 0.92, 0.95,
       {{"build", 0.5, 14}, {"fix-bug", 0.25, 8}, {"refactor", 0.15, 10}, {"deploy", 0.10, 4}}},
      {"code-review", "reviewer", F::kSonnet, F::kMini, 0.8, 12, 280, 9000, 450, 0.40, 0.012, 0.95, 0.95,
       {{"review-code", 0.8, 5}, {"fix-bug", 0.2, 7}}},
      {"research-agent", "research", F::kOpus, F::kSonnet, 0.8, 18, 150, 11000, 900, 0.30, 0.02, 0.9, 0.5,
       {{"research", 0.7, 10}, {"market-research", 0.3, 12}}},
      {"email-assistant", "support", F::kGpt4o, F::kMini, 0.65, 5, 240, 4500, 350, 0.25, 0.015, 0.85, 0.9,
       {{"answer-email", 0.7, 3}, {"triage-inbox", 0.3, 2}}},
      {"dash", "analytics", F::kGpt4o, F::kMini, 0.5, 5, 160, 5000, 600, 0.45, 0.01, 0.9, 0.0,
       {{"analyze", 0.5, 6}, {"report", 0.3, 5}, {"forecast", 0.2, 7}}},
      {"mae", "ops", F::kSonnet, F::kHaiku, 0.6, 5, 170, 4000, 400, 0.35, 0.01, 0.85, 0.0,
       {{"plan", 0.4, 5}, {"coordinate", 0.6, 3}}},
      {"seo-writer", "marketer", F::kMini, F::kGpt4o, 0.8, 5, 300, 3000, 1200, 0.20, 0.015, 0.92, 1.0,
       {{"write-content", 0.8, 6}, {"keyword-research", 0.2, 4}}},
      {"social-agent", "marketer", F::kHaiku, F::kMini, 0.85, 5, 200, 2000, 250, 0.20, 0.02, 0.9, 1.0,
       {{"post-social", 0.8, 2}, {"reply-comments", 0.2, 2}}},
      {"deploy-bot", "ops", F::kMini, F::kSonnet, 0.9, 5, 120, 2500, 300, 0.30, 0.02, 0.95, 1.0,
       {{"deploy", 0.6, 4}, {"monitor", 0.4, 2}}},
      {"bug-hunter", "builder", F::kSonnet, F::kOpus, 0.85, 18, 200, 8000, 600, 0.35, 0.015, 0.95, 1.0,
       {{"fix-bug", 0.7, 8}, {"write-tests", 0.3, 6}}},
      {"designer", "designer", F::kGpt4o, F::kMini, 0.8, 5, 80, 3000, 1200, 0.20, 0.01, 0.95, 1.0,
       {{"design", 0.7, 7}, {"write-copy", 0.3, 4}}},
      {"growth-hacker", "marketer", F::kGpt4o, F::kMini, 0.5, 5, 150, 3500, 500, 0.25, 0.015, 0.9, 1.0,
       {{"experiment", 0.5, 6}, {"write-content", 0.3, 6}, {"outreach", 0.2, 3}}},
      {"support-bot", "support", F::kMini, F::kGpt4o, 0.9, 5, 350, 2500, 300, 0.40, 0.02, 0.9, 1.0,
       {{"support-ticket", 0.8, 4}, {"answer-email", 0.2, 3}}},
      {"data-curator", "analytics", F::kMini, F::kGpt4o, 0.9, 5, 150, 6000, 300, 0.30, 0.01, 0.95, 0.0,
       {{"clean-data", 0.6, 4}, {"etl-check", 0.4, 3}}},
      {"scout", "research", F::kSonnet, F::kOpus, 0.8, 12, 120, 6000, 800, 0.30, 0.02, 0.9, 0.0,
       {{"market-research", 0.6, 9}, {"research", 0.4, 8}}},
  };
  return kAgents;
}

const std::vector<ProductSpec>& ProductSpecs() {
  // Channel mix order: organic, reddit, twitter, referral, direct. Launches
  // are spread so the window holds both mature products and fresh ones;
  // codesnip never converts, to exercise zero-revenue paths.
  static const std::vector<ProductSpec> kProducts = {
      {"InboxZero AI", "inboxzero-ai", "micro-saas", "subscription", "stripe", 240, 30,
       900, 0.08, 30, {0.45, 0.10, 0.10, 0.10, 0.25}, 0.03, 0.07, 160, {9, 19, 49}, {0.5, 0.35, 0.15},
       0.01, true, true,
       {{"hosting", "vercel", false, 0.6667}, {"database", "supabase", false, 0.8333},
        {"domain", "namecheap", true, 1.25}, {"email", "resend", true, 20}}},
      {"SnapAPI", "snapapi", "api", "usage", "stripe", 200, 21,
       400, 0.05, 30, {0.30, 0.15, 0.05, 0.20, 0.30}, 0.04, 0.05, 35, {}, {},
       0.005, true, false,
       {{"hosting", "fly-io", false, 1.1667}, {"database", "neon", false, 0.6333},
        {"cdn", "cloudflare", true, 5}, {"domain", "namecheap", true, 1}}},
      {"Best AI Tools Hub", "best-ai-tools-hub", "seo-site", "ads", "adsense", 300, 14,
       5200, 0.10, 60, {0.78, 0.05, 0.04, 0.08, 0.05}, 0.004, 0.0, 0, {}, {},
       0, false, true,
       {{"hosting", "vercel", false, 0.6667}, {"domain", "namecheap", true, 1.2}}},
      {"Prompt Pack Pro", "prompt-pack-pro", "digital-product", "one-time", "gumroad", 110, 10,
       1100, 0.06, 20, {0.35, 0.25, 0.20, 0.10, 0.10}, 0.04, 0.075, 0, {19, 29, 49}, {0.45, 0.35, 0.2},
       0.04, false, false,
       {{"email", "convertkit", true, 29}, {"domain", "namecheap", true, 1}}},
      {"TabGenie", "tabgenie", "extension", "subscription", "stripe", 60, 18,
       700, 0.15, 25, {0.30, 0.20, 0.15, 0.10, 0.25}, 0.06, 0.05, 0, {5, 9}, {0.7, 0.3},
       0.01, true, false,
       {{"hosting", "cloudflare", false, 0.1667}, {"database", "supabase", false, 0.8333}}},
      // conversion_rate is per pageview for affiliate sites: a click-through sale.
      {"SaaS Deals Review", "saas-deals-review", "seo-site", "affiliate", "affiliate", 45, 12,
       1600, 0.20, 30, {0.70, 0.08, 0.05, 0.12, 0.05}, 0.003, 0.0012, 0, {}, {},
       0, false, true,
       {{"hosting", "netlify", false, 0.3}, {"domain", "namecheap", true, 1.1}}},
      {"ResumeRocket", "resumerocket", "micro-saas", "subscription", "stripe", 25, 20,
       450, 0.20, 20, {0.40, 0.15, 0.15, 0.10, 0.20}, 0.05, 0.06, 0, {12, 29}, {0.6, 0.4},
       0.02, true, true,
       {{"hosting", "vercel", false, 0.6667}, {"database", "supabase", false, 0.8333},
        {"domain", "namecheap", true, 1.25}}},
      {"CodeSnip", "codesnip", "extension", "one-time", "gumroad", 12, 16,
       180, 0.10, 10, {0.30, 0.25, 0.20, 0.05, 0.20}, 0.05, 0.0, 0, {9}, {1},
       0, true, false,
       {{"hosting", "cloudflare", false, 0.1667}}},
  };
  return kProducts;
}

const std::vector<InfraSpec>& SharedInfraSpecs() {
  // Infra no single product owns: the agents' servers and the factory's tools.
  static const std::vector<InfraSpec> kShared = {
      {"hosting", "hetzner", false, 1.6},
      {"database", "supabase", true, 25},
      {"monitoring", "grafana-cloud", true, 19},
      {"email", "resend", true, 20},
  };
  return kShared;
}

namespace {

struct FamilyInfo {
  Tier tier;
  std::vector<std::string_view> candidates;  // first one the price table knows wins
};

const std::array<FamilyInfo, kFamilyCount>& Families() {
  static const std::array<FamilyInfo, kFamilyCount> kFamilies = {{
      {Tier::kFrontier, {"claude-opus-4-6", "claude-opus-4-5", "claude-opus-4-1", "claude-opus-4", "gpt-4.1", "gpt-4o"}},
      {Tier::kMid, {"claude-sonnet-4-5", "claude-sonnet-4-6", "claude-sonnet-4", "gpt-4o", "gpt-4.1"}},
      {Tier::kMid, {"gpt-4o", "gpt-4.1", "claude-sonnet-4"}},
      {Tier::kCheap, {"gpt-4o-mini", "gpt-4.1-mini", "claude-3-5-haiku"}},
      {Tier::kCheap, {"claude-haiku-4-5", "claude-3-5-haiku", "gpt-4o-mini"}},
  }};
  return kFamilies;
}

std::string GuessProvider(std::string_view model) {
  if (model.starts_with("claude")) return "anthropic";
  if (model.starts_with("gpt") || model.starts_with("o")) return "openai";
  if (model.starts_with("gemini")) return "gemini";
  return "unknown";
}

std::optional<ResolvedModel> Resolve(std::string_view name, Tier tier, const model::PriceTable& prices) {
  const model::ModelPrice* price = prices.Find(name);
  if (price == nullptr) return std::nullopt;
  std::string provider = price->provider.empty() ? GuessProvider(name) : core::LowerAscii(price->provider);
  return ResolvedModel{std::string(name), std::move(provider), tier};
}

double MeanSteps(const AgentSpec& spec) {
  // Median of a lognormal with sigma 0.5 is below its mean by e^(0.5^2/2).
  double mean = 0;
  for (const TaskMix& t : spec.tasks) mean += t.share * t.median_steps * std::exp(0.125);
  return std::max(1.0, mean);
}

}  // namespace

Catalog BuildCatalog(const DemoOptions& options, const model::PriceTable& prices) {
  Catalog catalog;
  Rng rng(StreamSeed(options.seed, kEntityStream));

  // Models: each family's first known candidate; a family the table knows
  // nothing of borrows any resolved model, so a trimmed price file still works.
  std::optional<ResolvedModel> any;
  for (int f = 0; f < kFamilyCount; ++f) {
    for (std::string_view name : Families()[f].candidates) {
      if ((catalog.models[f] = Resolve(name, Families()[f].tier, prices))) break;
    }
    if (!any && catalog.models[f]) any = catalog.models[f];
  }
  if (!any) {
    catalog.error = core::Error::NotFound(
        "demo: the price table knows none of the demo models (e.g. gpt-4o, gpt-4o-mini, claude-sonnet-4)");
    for (auto& m : catalog.models) m = ResolvedModel{"gpt-4o-mini", "openai", Tier::kCheap};
  }
  for (auto& m : catalog.models) {
    if (!m) m = any;
  }

  const core::Timestamp window_start = options.end - kDay * options.days;
  for (const AgentSpec& spec : AgentSpecs()) {
    const int primary = static_cast<int>(spec.primary);
    catalog.agents.push_back({&spec, primary, static_cast<int>(spec.secondary), MeanSteps(spec)});
    model::Agent agent;
    agent.id = std::string(spec.id);
    agent.role = std::string(spec.role);
    agent.default_model = catalog.models[primary]->name;
    agent.daily_budget = Usd(spec.daily_budget_usd, 2);
    agent.metadata = R"({"demo":true})";
    agent.created_at = core::FloorToDay(window_start) - kDay * 180;
    catalog.entities.agents.push_back(std::move(agent));
  }

  for (const ProductSpec& spec : ProductSpecs()) {
    ProductPlan plan;
    plan.spec = &spec;
    const std::uint64_t hi = rng.Bits();
    plan.id = core::UuidFromBits(hi, rng.Bits());
    const std::uint64_t chi = rng.Bits();
    plan.channel_id = core::UuidFromBits(chi, rng.Bits());
    // Launches happen mid-afternoon UTC on their day, whatever `end` is.
    plan.launched_at = core::FloorToDay(options.end - kDay * spec.launched_days_before_end) + hours(15);
    plan.created_at = plan.launched_at - kDay * spec.build_days - hours(5);

    double monthly = 0;
    for (const InfraSpec& infra : spec.infra) monthly += infra.monthly ? infra.amount_usd : infra.amount_usd * 30;
    model::Product product;
    product.id = plan.id;
    product.name = std::string(spec.name);
    product.type = std::string(spec.type);
    product.launched_at = plan.launched_at;
    product.revenue_model = std::string(spec.revenue_model);
    product.monthly_cost = Usd(monthly, 2);
    product.metadata = fmt::format(R"({{"demo":true,"slug":"{}"}})", spec.slug);
    product.created_at = plan.created_at;
    catalog.entities.products.push_back(std::move(product));

    model::RevenueChannel channel;
    channel.id = plan.channel_id;
    channel.product_id = plan.id;
    channel.channel_type = std::string(spec.channel_type);
    channel.channel_config = R"({"demo":true})";
    channel.created_at = plan.created_at;
    catalog.entities.channels.push_back(std::move(channel));
    catalog.products.push_back(std::move(plan));
  }

  // One runaway loop by research-agent in the last weeks gives cost-velocity
  // alerts and anomaly rules something real to find.
  if (options.days >= 2) {
    catalog.incident_day = options.days - 1 - static_cast<int>(rng.Int(1, std::min(20, options.days - 1)));
  }
  return catalog;
}

}  // namespace tally::ingest::demo
