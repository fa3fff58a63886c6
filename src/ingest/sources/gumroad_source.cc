#include "ingest/sources/gumroad_source.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

#include "core/ids.h"
#include "core/json.h"
#include "ingest/sources/product_mapping.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;

std::string Get(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

}  // namespace

GumroadSource::GumroadSource(std::string url_token, CurrencyConverter converter)
    : token_(std::move(url_token)), converter_(std::move(converter)) {}

core::Status GumroadSource::Verify(const SourceRequest& request, core::Timestamp) const {
  if (token_.empty()) {
    return std::unexpected(core::Error::Unavailable(
        "gumroad pings are not configured: set [gumroad] url_token or TALLY_GUMROAD_URL_TOKEN"));
  }
  auto it = request.path_params.find("token");
  std::string_view given = it == request.path_params.end() ? std::string_view() : it->second;
  // Hash both sides first so the compare is constant-time even when the
  // lengths differ.
  if (!core::ConstantTimeEquals(core::Sha256Hex(token_), core::Sha256Hex(given))) {
    return std::unexpected(
        core::Error::Unauthenticated("gumroad ping URL token does not match the configured token"));
  }
  return core::OkStatus();
}

core::Result<Conversion> GumroadSource::Convert(
    std::string_view body, std::span<const store::ProductMapping> mappings) const {
  std::map<std::string, std::string> f;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    auto parsed = core::ParseJson(body);
    if (!parsed) return std::unexpected(std::move(parsed).error());
    if (!parsed->is_object()) {
      return std::unexpected(core::Error::InvalidArgument("gumroad ping: JSON body must be an object"));
    }
    for (const auto& [k, v] : parsed->as_object()) {
      if (v.is_string()) f[std::string(k)] = std::string(v.as_string());
      else if (v.is_bool()) f[std::string(k)] = v.as_bool() ? "true" : "false";
      else if (v.is_int64() || v.is_uint64() || v.is_double()) f[std::string(k)] = json::serialize(v);
    }
  } else {
    f = ParseFormUrlEncoded(body);
  }
  Conversion c;
  std::string sale_id = Get(f, "sale_id");
  std::string resource = Get(f, "resource_name");
  if (resource.empty()) resource = "sale";
  bool refund = resource == "refund" || Get(f, "refunded") == "true";
  c.event_type = refund ? "refund" : resource;
  if (sale_id.empty()) {
    return std::unexpected(core::Error::InvalidArgument("gumroad ping: sale_id is required"));
  }
  c.provider_event_id = fmt::format("{}:{}", refund ? "refund" : resource, sale_id);
  if (!refund && resource != "sale") {
    c.kind = Conversion::Kind::kIgnored;
    c.reason = fmt::format("gumroad resource '{}' is not counted", resource);
    return c;
  }
  std::string price_text = Get(f, "price");
  std::int64_t minor = 0;
  auto [ptr, ec] = std::from_chars(price_text.data(), price_text.data() + price_text.size(), minor);
  if (price_text.empty() || ec != std::errc() || ptr != price_text.data() + price_text.size()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("gumroad ping '{}': price '{}' is not an integer (cents)", sale_id, price_text)));
  }
  if (minor <= 0) {
    c.kind = Conversion::Kind::kIgnored;
    c.reason = fmt::format("gumroad sale '{}' has price {}: no revenue", sale_id, minor);
    return c;
  }
  auto time = core::ParseRfc3339(Get(f, "sale_timestamp"));
  if (!time) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "gumroad ping '{}': sale_timestamp '{}' is not RFC 3339", sale_id, Get(f, "sale_timestamp"))));
  }
  std::vector<std::pair<std::string, std::string>> keys;
  if (auto p = Get(f, "product_id"); !p.empty()) keys.emplace_back("product_id", p);
  if (auto p = Get(f, "permalink"); !p.empty()) keys.emplace_back("permalink", p);
  std::vector<std::string> ids;
  for (const auto& k : keys) ids.push_back(k.second);
  auto mapping = FindMapping(mappings, ids);
  if (!mapping) {
    c.kind = Conversion::Kind::kUnmapped;
    c.reason = UnmappedReason("gumroad", keys);
    return c;
  }
  std::string currency = Get(f, "currency");
  auto amount = converter_.ToUsd(minor, currency.empty() ? "usd" : currency);
  if (!amount) {
    if (amount.error().code() == core::ErrorCode::kNotFound) {
      c.kind = Conversion::Kind::kUnmapped;
      c.reason = amount.error().message();
      return c;
    }
    return std::unexpected(std::move(amount).error());
  }
  json::object md{{"source", "gumroad"}, {"sale_id", sale_id}, {"mapped_by", mapping->external_id}};
  if (auto s = Get(f, "subscription_id"); !s.empty()) md["subscription"] = s;
  if (auto s = Get(f, "recurrence"); !s.empty()) md["recurrence"] = s;
  if (Get(f, "test") == "true") md["test"] = true;
  if (refund) md["dated_at_sale"] = true;
  if (amount->currency != "USD") {
    md["original_currency"] = amount->currency;
    md["original_amount"] = refund ? "-" + amount->original_amount : amount->original_amount;
    md["fx_usd_per_unit"] = amount->rate;
  }
  model::RevenueEvent e;
  e.event_id = fmt::format("gumroad:{}:{}", refund ? "refund" : "payment", sale_id);
  e.time = *time;
  e.product_id = mapping->product_id;
  e.channel_id = mapping->channel_id;
  e.event_type = refund ? model::RevenueEventType::kRefund : model::RevenueEventType::kPayment;
  e.amount_usd = refund ? -amount->usd : amount->usd;
  e.currency = "USD";
  if (auto p = Get(f, "purchaser_id"); !p.empty()) e.customer_id = "gumroad:" + p;
  e.metadata = json::serialize(md);
  c.events.emplace_back(std::move(e));
  c.kind = Conversion::Kind::kEvents;
  return c;
}

}  // namespace tally::ingest
