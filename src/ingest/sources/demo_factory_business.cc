// The demo factory's business: each product's traffic funnel, customers,
// revenue and gauges for one day, and the infra bills.
//
// The funnel drives revenue (every paying conversion is one revenue event),
// so conversion rates, MRR, churn and time to revenue agree with each other.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ingest/sources/demo_factory_internal.h"

namespace tally::ingest::demo {
namespace {

using model::Event;
using model::RevenueEventType;

constexpr std::array<std::string_view, 5> kChannels = {"organic", "reddit", "twitter", "referral", "direct"};
// Gauges are one daily value per product, not per traffic channel.
constexpr std::string_view kAllChannels = "all";
constexpr std::array<std::string_view, 4> kPlans = {"starter", "pro", "business", "enterprise"};
constexpr std::array<std::string_view, 5> kAffiliatePrograms = {"notion", "semrush", "webflow", "jasper",
                                                                "convertkit"};
constexpr auto kMonth = kDay * 30;
constexpr double kUsageMedianUsd = 35;  // a metered API customer's monthly bill

double Days(core::Timestamp::duration d) { return std::chrono::duration<double, std::ratio<86400>>(d).count(); }

std::string PlanMeta(std::string_view plan, std::string_view channel) {
  return fmt::format(R"({{"plan":"{}","interval":"month","channel":"{}"}})", plan, channel);
}

}  // namespace

std::string DayGenerator::Revenue(const ProductPlan& p, core::Timestamp t, RevenueEventType type,
                                  std::optional<double> amount, const std::string& customer,
                                  std::string metadata, std::vector<Event>& out) {
  model::RevenueEvent e;
  e.event_id = NextId("rev", n_rev_);
  e.time = t;
  e.product_id = p.id;
  e.channel_id = p.channel_id;
  e.event_type = type;
  if (amount) e.amount_usd = Usd(*amount, 2);
  if (!customer.empty()) e.customer_id = customer;
  e.metadata = std::move(metadata);
  std::string id = e.event_id;
  out.push_back(std::move(e));
  return id;
}

void DayGenerator::Growth(const ProductPlan& p, core::Timestamp t, std::string_view channel,
                          std::string_view metric, double value, std::vector<Event>& out) {
  model::GrowthEvent e;
  e.event_id = NextId("growth", n_growth_);
  e.time = t;
  e.product_id = p.id;
  e.channel = std::string(channel);
  e.metric = std::string(metric);
  e.value_centi = std::llround(value * 100);
  out.push_back(std::move(e));
}

void DayGenerator::ProductDay(size_t index, core::Timestamp start, std::vector<Event>& out) {
  const ProductPlan& p = catalog_.products[index];
  const ProductSpec& spec = *p.spec;
  ProductState& state = product_state_[index];
  const core::Timestamp day_end = start + kDay;
  if (p.launched_at >= day_end) return;  // nothing to sell or visit yet
  const bool subscription = spec.revenue_model == "subscription";
  const bool usage = spec.revenue_model == "usage";

  if (!state.started) {
    // A product launched before the window arrives with its customer base.
    state.started = true;
    const double age = std::max(0.0, Days(start - p.launched_at));
    if (p.launched_at < start && (subscription || usage)) {
      for (int i = 0; i < spec.initial_customers; ++i) {
        Subscriber sub;
        sub.customer_id = CustomerId();
        if (usage) {
          sub.amount = std::clamp(business_.LogNormal(kUsageMedianUsd, 0.9), 5.0, 800.0);
          sub.plan = "metered";
        } else {
          const size_t plan = business_.Pick(spec.price_weights);
          sub.amount = spec.prices[plan];
          sub.plan = std::string(kPlans[plan]);
        }
        sub.next_bill = start + microseconds(business_.Int(0, 30LL * 86'400'000'000LL - 1));
        state.subscribers.push_back(std::move(sub));
      }
    }
    state.users = spec.has_users ? spec.initial_customers * 15 + age * 4 : 0;
    state.email_subscribers = spec.initial_customers * 6 + age * 2;
    state.keywords = spec.seo ? 3 + age / 12 : 0;
  }

  // Renewals: one payment per subscriber per 30 days; usage bills vary.
  const bool refundable = spec.refund_rate > 0;
  for (Subscriber& sub : state.subscribers) {
    while (sub.next_bill < day_end) {
      const double amount =
          usage ? std::max(1.0, std::round(sub.amount * business_.LogNormal(1, 0.25) * 100) / 100) : sub.amount;
      const std::string id = Revenue(p, sub.next_bill, RevenueEventType::kPayment, amount, sub.customer_id,
                                     fmt::format(R"({{"plan":"{}"}})", sub.plan), out);
      if (refundable && business_.Chance(spec.refund_rate / 2)) {
        Revenue(p, sub.next_bill + kDay * business_.Int(1, 10), RevenueEventType::kRefund, -amount,
                sub.customer_id, fmt::format(R"({{"refund_of":"{}"}})", id), out);
      }
      sub.next_bill += kMonth;
    }
  }
  // Churn: ~4.5% of subscribers a month (usage customers drift away slower).
  int cancels = 0;
  for (Subscriber& sub : state.subscribers) {
    if (!business_.Chance(usage ? 0.001 : 0.0015)) continue;
    sub.cancelled = true;
    ++cancels;
    if (subscription) {
      Revenue(p, TimeInDay(business_, start), RevenueEventType::kSubscriptionCancel, std::nullopt,
              sub.customer_id,
              fmt::format(R"({{"plan":"{}","plan_amount_usd":"{}"}})", sub.plan, Usd(sub.amount, 2).ToString()),
              out);
    }
  }
  std::erase_if(state.subscribers, [](const Subscriber& s) { return s.cancelled; });

  // Traffic grows month over month after a launch ramp.
  const core::Timestamp midday = start + hours(12);
  const double months_before_end = Days(options_.end - midday) / 30;
  double pageviews = spec.pageviews_at_end * std::pow(1 + spec.monthly_growth, -months_before_end) *
                     std::clamp(Days(midday - p.launched_at) / spec.ramp_days, 0.05, 1.0) *
                     business_.LogNormal(1, 0.15);
  if (p.launched_at > start) pageviews *= Days(day_end - p.launched_at);  // launched today

  const core::Timestamp report = day_end - std::chrono::minutes(1);  // daily rollup of the product's analytics
  std::int64_t total_pageviews = 0, total_signups = 0;
  for (size_t c = 0; c < kChannels.size(); ++c) {
    const std::int64_t views = business_.Poisson(pageviews * spec.channel_mix[c]);
    const std::int64_t signups = business_.Poisson(static_cast<double>(views) * spec.signup_rate);
    std::int64_t conversions = 0;
    if (spec.revenue_model == "affiliate") {
      conversions = business_.Poisson(static_cast<double>(views) * spec.conversion_rate);
    } else if (spec.revenue_model != "ads") {
      conversions = business_.Poisson(static_cast<double>(signups) * spec.conversion_rate);
    }
    total_pageviews += views;
    total_signups += signups;
    if (views > 0) Growth(p, report, kChannels[c], "pageview", static_cast<double>(views), out);
    if (signups > 0) Growth(p, report, kChannels[c], "signup", static_cast<double>(signups), out);
    if (subscription && signups > 0) {
      const std::int64_t trials = business_.Poisson(static_cast<double>(signups) * 0.4);
      if (trials > 0) Growth(p, report, kChannels[c], "trial_start", static_cast<double>(trials), out);
    }
    if (conversions > 0) Growth(p, report, kChannels[c], "conversion", static_cast<double>(conversions), out);
    for (std::int64_t i = 0; i < conversions; ++i) Convert(p, state, kChannels[c], start, out);
  }

  if (spec.revenue_model == "ads" && total_pageviews > 0) {
    const double rpm = business_.LogNormal(11, 0.2);  // USD per 1000 pageviews
    const double amount = std::round(static_cast<double>(total_pageviews) * rpm / 10) / 100;
    if (amount > 0) {
      Revenue(p, day_end - std::chrono::minutes(2), RevenueEventType::kAdImpression, amount, "",
              fmt::format(R"({{"impressions":{}}})", total_pageviews * 2), out);
    }
  }

  // Gauges: one value a day each.
  if (spec.has_users) {
    state.users += static_cast<double>(total_signups);
    Growth(p, report, kAllChannels, "users", std::round(state.users), out);
    Growth(p, report, kAllChannels, "dau", std::round(state.users * business_.Uniform(0.18, 0.28)), out);
    Growth(p, report, kAllChannels, "mau", std::round(state.users * business_.Uniform(0.50, 0.65)), out);
    const std::int64_t referrals = business_.Poisson(state.users * 0.0018);
    if (referrals > 0) Growth(p, report, "referral", "referral", static_cast<double>(referrals), out);
  }
  state.email_subscribers += static_cast<double>(total_signups) * (spec.has_users ? 0.35 : 0.8);
  state.email_subscribers -= static_cast<double>(business_.Poisson(state.email_subscribers * 0.0005));
  Growth(p, report, kAllChannels, "email_subscribers", std::round(state.email_subscribers), out);
  if (spec.seo) {
    state.keywords = std::max(0.0, state.keywords + business_.Normal(0.12, 0.6));
    Growth(p, report, kAllChannels, "keyword_top10", std::round(state.keywords), out);
  }
  const std::int64_t backlinks = business_.Poisson(spec.seo ? 0.5 : 0.08);
  if (backlinks > 0) Growth(p, report, "organic", "referring_domain_new", static_cast<double>(backlinks), out);
  if (cancels > 0) Growth(p, report, kAllChannels, "churn", cancels, out);
}

void DayGenerator::Convert(const ProductPlan& p, ProductState& state, std::string_view channel,
                           core::Timestamp start, std::vector<Event>& out) {
  const ProductSpec& spec = *p.spec;
  core::Timestamp t = TimeInDay(business_, start);
  if (t < p.launched_at) t = p.launched_at + std::chrono::seconds(business_.Int(60, 3600));
  const auto refund_time = [&] { return t + kDay * business_.Int(1, 12) + std::chrono::seconds(business_.Int(0, 86'399)); };

  if (spec.revenue_model == "subscription") {
    const size_t plan = business_.Pick(spec.price_weights);
    const double amount = spec.prices[plan];
    const std::string customer = CustomerId();
    // The start charges the first month; renewals follow every 30 days.
    const std::string id = Revenue(p, t, RevenueEventType::kSubscriptionStart, amount, customer,
                                   PlanMeta(kPlans[plan], channel), out);
    if (business_.Chance(spec.refund_rate)) {  // asked for their money back and left
      const core::Timestamp when = refund_time();
      Revenue(p, when, RevenueEventType::kRefund, -amount, customer, fmt::format(R"({{"refund_of":"{}"}})", id), out);
      Revenue(p, when + std::chrono::seconds(1), RevenueEventType::kSubscriptionCancel, std::nullopt, customer,
              fmt::format(R"({{"plan":"{}","plan_amount_usd":"{}"}})", kPlans[plan], Usd(amount, 2).ToString()),
              out);
      return;
    }
    state.subscribers.push_back({customer, amount, t + kMonth, std::string(kPlans[plan])});
  } else if (spec.revenue_model == "usage") {
    // Metered: billed in arrears, so the first payment comes a month later.
    state.subscribers.push_back(
        {CustomerId(), std::clamp(business_.LogNormal(kUsageMedianUsd, 0.9), 5.0, 800.0), t + kMonth, "metered"});
  } else if (spec.revenue_model == "one-time") {
    const size_t sku = business_.Pick(spec.price_weights);
    const double amount = spec.prices[sku];
    const std::string customer = CustomerId();
    const std::string id = Revenue(p, t, RevenueEventType::kPayment, amount, customer,
                                   fmt::format(R"({{"sku":"{}","channel":"{}"}})", kPlans[sku], channel), out);
    if (business_.Chance(spec.refund_rate)) {
      Revenue(p, refund_time(), RevenueEventType::kRefund, -amount, customer,
              fmt::format(R"({{"refund_of":"{}"}})", id), out);
    }
  } else if (spec.revenue_model == "affiliate") {
    const double commission = std::round(std::clamp(business_.LogNormal(28, 0.6), 3.0, 250.0) * 100) / 100;
    Revenue(p, t, RevenueEventType::kAffiliateConversion, commission, "",
            fmt::format(R"({{"program":"{}","channel":"{}"}})",
                        kAffiliatePrograms[business_.Int(0, kAffiliatePrograms.size() - 1)], channel),
            out);
  }
}

void DayGenerator::OpsDay(core::Timestamp start, std::vector<Event>& out) {
  for (const ProductPlan& p : catalog_.products) {
    if (p.launched_at >= start + kDay) continue;
    // About one deploy every other day, a few percent of them failing.
    const std::int64_t deploys = ops_.Poisson(0.6);
    for (std::int64_t i = 0; i < deploys; ++i) {
      model::OpsEvent e;
      e.event_id = NextId("ops", n_ops_);
      e.time = TimeInDay(ops_, start);
      e.product_id = p.id;
      e.kind = "deploy";
      e.source = "github";
      e.status = ops_.Chance(0.06) ? "failure" : "success";
      e.latency_ms = ops_.Int(40'000, 240'000);
      e.repository = fmt::format("factory/{}", p.spec->slug);
      e.metadata = R"({"environment":"production"})";
      out.push_back(std::move(e));
    }
    UptimeDay(p, start, out);
  }
}

// Hourly uptime probes, as tally's prober records them; on about one day in
// thirty an incident takes the product down for one to three hours.
void DayGenerator::UptimeDay(const ProductPlan& p, core::Timestamp start, std::vector<Event>& out) {
  const bool incident = ops_.Chance(0.03);
  const std::int64_t down_from = incident ? ops_.Int(0, 21) : -1;
  const std::int64_t down_until = incident ? down_from + ops_.Int(1, 3) : -1;
  for (std::int64_t h = 0; h < 24; ++h) {
    const core::Timestamp at = start + std::chrono::hours(h) + std::chrono::minutes(7);
    if (at < p.launched_at) continue;
    const bool down = h >= down_from && h < down_until;
    model::OpsEvent e;
    e.event_id = NextId("ops", n_ops_);
    e.time = at;
    e.product_id = p.id;
    e.kind = "uptime_check";
    e.source = "tally";
    e.status = down ? "down" : "up";
    e.latency_ms = down ? 10'000 : ops_.Int(60, 450);
    e.status_code = down ? 503 : 200;
    out.push_back(std::move(e));
  }
  if (incident) {
    model::OpsEvent e;
    e.event_id = NextId("ops", n_ops_);
    e.time = start + std::chrono::hours(down_from) + std::chrono::minutes(9);
    e.product_id = p.id;
    e.kind = "incident";
    e.source = "demo";
    e.status = "resolved";
    e.latency_ms = (down_until - down_from) * 3'600'000;  // time to restore
    e.metadata = R"({"cause":"upstream outage"})";
    out.push_back(std::move(e));
  }
}

void DayGenerator::InfraDay(core::Timestamp start, std::vector<Event>& out) {
  // Each 24-hour day holds exactly one UTC midnight; monthly bills land on the 1st.
  const core::Timestamp midnight = core::FloorToDay(start + kDay - microseconds(1));
  const std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(midnight)};
  const bool first_of_month = date.day() == std::chrono::day{1};

  const auto bill = [&](const ProductPlan* p, const InfraSpec& s, int n) {
    if (s.monthly && !first_of_month) return;
    model::InfraCost e;
    e.event_id = NextId("infra", n_infra_);
    e.time = (s.monthly ? midnight + std::chrono::minutes(10) : start + std::chrono::minutes(5)) +
             std::chrono::seconds(n);
    if (p != nullptr) e.product_id = p->id;
    e.cost_type = std::string(s.cost_type);
    e.provider = std::string(s.provider);
    e.amount_usd = Usd(s.amount_usd, 4);
    e.billing_period = s.monthly ? "monthly" : "daily";
    out.push_back(std::move(e));
  };
  int n = 0;
  for (const InfraSpec& s : SharedInfraSpecs()) bill(nullptr, s, n++);
  for (const ProductPlan& p : catalog_.products) {
    if (p.created_at >= start) continue;  // billed from its first full day
    for (const InfraSpec& s : p.spec->infra) bill(&p, s, n++);
  }
}

}  // namespace tally::ingest::demo
