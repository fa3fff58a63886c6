// The relational entities of seed §3.1: products, agents, revenue channels.
// Ids: products and channels are UUIDs (generated when absent), agents are
// slugs chosen by the operator ("kev", "research-agent").
#pragma once

#include <optional>
#include <string>

#include "core/money.h"
#include "core/time.h"

namespace tally::model {

struct Product {
  std::string id;
  std::string name;
  std::string type;  // open slug: micro-saas, api, seo-site, extension, digital-product
  std::string status = "active";
  std::optional<core::Timestamp> launched_at;
  std::optional<std::string> revenue_model;  // subscription, usage, one-time, ads, affiliate
  std::optional<core::Money> monthly_cost;
  std::string metadata;  // JSON object text or empty
  core::Timestamp created_at;
};

struct Agent {
  std::string id;
  std::string role;  // open slug: builder, marketer, ops, analytics, ...
  std::optional<std::string> default_model;
  std::optional<core::Money> daily_budget;
  std::string status = "active";  // active, paused
  std::string metadata;
  core::Timestamp created_at;
};

struct RevenueChannel {
  std::string id;
  std::optional<std::string> product_id;
  std::string channel_type;  // open slug: stripe, gumroad, adsense, affiliate, ...
  std::string channel_config;  // JSON object text or empty
  core::Timestamp created_at;
};

}  // namespace tally::model
