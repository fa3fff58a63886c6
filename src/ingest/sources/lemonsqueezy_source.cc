#include "ingest/sources/lemonsqueezy_source.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/json.h"
#include "ingest/sources/hmac_hex.h"
#include "ingest/sources/json_fields.h"
#include "ingest/sources/product_mapping.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;
using json_fields::Field;
using json_fields::Get;
using json_fields::Int;
using json_fields::Str;

Conversion Ignored(Conversion c, std::string reason) {
  c.kind = Conversion::Kind::kIgnored;
  c.reason = std::move(reason);
  return c;
}

}  // namespace

LemonSqueezySource::LemonSqueezySource(std::string signing_secret, CurrencyConverter converter)
    : secret_(std::move(signing_secret)), converter_(std::move(converter)) {}

core::Status LemonSqueezySource::Verify(const SourceRequest& request, core::Timestamp) const {
  if (secret_.empty()) {
    return std::unexpected(core::Error::Unavailable(
        "lemonsqueezy webhooks are not configured: set [lemonsqueezy] signing_secret or "
        "TALLY_LEMONSQUEEZY_SIGNING_SECRET"));
  }
  auto it = request.headers->find("x-signature");
  if (it == request.headers->end() || it->second.empty()) {
    return std::unexpected(core::Error::Unauthenticated("missing X-Signature header"));
  }
  if (!HmacHexMatches(secret_, request.body, it->second)) {
    return std::unexpected(core::Error::Unauthenticated(
        "X-Signature does not match the body with the configured signing secret (wrong secret, "
        "or the body was changed after signing)"));
  }
  return core::OkStatus();
}

core::Result<Conversion> LemonSqueezySource::Convert(
    std::string_view body, std::span<const store::ProductMapping> mappings) const {
  auto parsed = core::ParseJson(body);
  if (!parsed) return std::unexpected(std::move(parsed).error());
  const json::value& root = *parsed;
  const json::value& meta = Field(root, "meta");
  const json::value& data = Field(root, "data");
  const json::value& attrs = Field(data, "attributes");
  Conversion c;
  c.event_type = Str(meta, "event_name");
  const std::string data_type = Str(data, "type");
  const std::string data_id = Str(data, "id");
  if (c.event_type.empty() || data_id.empty() || !attrs.is_object()) {
    return std::unexpected(core::Error::InvalidArgument(
        "lemonsqueezy webhook: meta.event_name, data.id and data.attributes are required"));
  }
  // meta.webhook_id names the webhook endpoint, not the delivery: the event
  // is identified by what happened to which object.
  c.provider_event_id = fmt::format("{}:{}:{}", c.event_type, data_type, data_id);
  const std::string& type = c.event_type;

  model::RevenueEventType etype = model::RevenueEventType::kPayment;
  std::string event_id;
  std::string refund_key;  // order_refunded: the running total's key
  std::string time_text = Str(attrs, "created_at");
  std::optional<std::int64_t> usd_cents;
  std::int64_t minor_units = 0;
  json::object md;
  bool amount_known = true;
  if (type == "order_created") {
    if (auto st = Str(attrs, "status"); st != "paid") {
      return Ignored(std::move(c), fmt::format("order status '{}': only paid orders count", st));
    }
    event_id = "lemonsqueezy:payment:order:" + data_id;
    minor_units = Int(attrs, "total").value_or(0);
    usd_cents = Int(attrs, "total_usd");
    md["order"] = data_id;
  } else if (type == "subscription_payment_success") {
    event_id = "lemonsqueezy:payment:invoice:" + data_id;
    minor_units = Int(attrs, "total").value_or(0);
    usd_cents = Int(attrs, "total_usd");
    md["subscription"] = Str(attrs, "subscription_id");
    md["subscription_invoice"] = data_id;
    if (auto r = Str(attrs, "billing_reason"); !r.empty()) md["billing_reason"] = r;
    if (minor_units <= 0 && usd_cents.value_or(0) <= 0) {
      return Ignored(std::move(c), fmt::format("subscription invoice '{}' paid 0: no revenue", data_id));
    }
  } else if (type == "subscription_created" || type == "subscription_cancelled") {
    bool start = type == "subscription_created";
    etype = start ? model::RevenueEventType::kSubscriptionStart
                  : model::RevenueEventType::kSubscriptionCancel;
    event_id = fmt::format("lemonsqueezy:{}:{}", start ? "subscription_start" : "subscription_cancel",
                           data_id);
    if (!start) time_text = Str(attrs, "updated_at");
    auto monthly = Int(Field(meta, "custom_data"), "monthly_amount_usd_cents");
    usd_cents = monthly.value_or(0);
    amount_known = monthly.has_value();
    md["subscription"] = data_id;
    md["amount_is"] = "monthly";
    if (auto st = Str(attrs, "status"); !st.empty()) md["status"] = st;
  } else if (type == "order_refunded") {
    etype = model::RevenueEventType::kRefund;
    if (auto t = Str(attrs, "refunded_at"); !t.empty()) time_text = t;
    else time_text = Str(attrs, "updated_at");
    // refunded_amount is everything refunded on the order so far: each
    // partial refund sends a larger one. A payload without it refunds the
    // total.
    auto refunded = Int(attrs, "refunded_amount").value_or(0);
    minor_units = refunded > 0 ? refunded : Int(attrs, "total").value_or(0);
    usd_cents = refunded > 0 ? Int(attrs, "refunded_amount_usd") : Int(attrs, "total_usd");
    md["order"] = data_id;
    if (minor_units <= 0 && usd_cents.value_or(0) <= 0) {
      return Ignored(std::move(c), fmt::format("refund of order '{}' has no positive amount", data_id));
    }
    // One delivery per cumulative amount: a second partial refund is a new
    // delivery (parked apart, too), a retry of the same one is not. The
    // store keeps only the increase over the order's earlier refund rows.
    refund_key = "lemonsqueezy:refund:order:" + data_id;
    event_id = fmt::format("{}:{}", refund_key, minor_units);
    c.provider_event_id = fmt::format("{}:{}", c.provider_event_id, minor_units);
    md["refunded_amount"] = minor_units;
    md["amount_is"] = "increase of the order's cumulative refunded_amount";
  } else {
    return Ignored(std::move(c), fmt::format("lemonsqueezy event '{}' is not counted", type));
  }

  auto time = core::ParseRfc3339(time_text);
  if (!time) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "lemonsqueezy event '{}': time '{}' is not RFC 3339", c.provider_event_id, time_text)));
  }

  // Products: variant (most specific), product, the checkout's custom data, "*".
  const json::value& item = Get(attrs, "first_order_item")          ? Field(attrs, "first_order_item")
                            : Get(attrs, "first_subscription_item") ? Field(attrs, "first_subscription_item")
                                                                    : attrs;
  std::string variant = Str(item, "variant_id");
  if (variant.empty()) variant = Str(attrs, "variant_id");
  std::string product = Str(item, "product_id");
  if (product.empty()) product = Str(attrs, "product_id");
  std::string custom = Str(Field(meta, "custom_data"), "tally_product");
  std::vector<std::pair<std::string, std::string>> keys;
  if (!variant.empty()) keys.emplace_back("variant", variant);
  if (!product.empty()) keys.emplace_back("product", "product:" + product);
  if (!custom.empty()) keys.emplace_back("custom_data.tally_product", custom);
  std::vector<std::string> ids;
  for (const auto& k : keys) ids.push_back(k.second);
  auto mapping = FindMapping(mappings, ids);
  if (!mapping) {
    c.kind = Conversion::Kind::kUnmapped;
    c.reason = UnmappedReason("lemonsqueezy", keys);
    return c;
  }

  std::string currency = core::LowerAscii(Str(attrs, "currency"));
  if (currency.empty()) currency = "usd";
  core::Money usd;
  if (usd_cents) {
    usd = core::Money::FromMicros(*usd_cents * 10'000);
    if (currency != "usd" && minor_units != 0) {
      md["original_currency"] = Str(attrs, "currency");
      md["original_minor_units"] = minor_units;
      if (auto r = Str(attrs, "currency_rate"); !r.empty()) md["lemonsqueezy_currency_rate"] = r;
    }
  } else {
    auto amount = converter_.ToUsd(minor_units, currency);
    if (!amount) {
      if (amount.error().code() == core::ErrorCode::kNotFound) {
        c.kind = Conversion::Kind::kUnmapped;
        c.reason = amount.error().message();
        return c;
      }
      return std::unexpected(std::move(amount).error());
    }
    usd = amount->usd;
    if (amount->currency != "USD") {
      md["original_currency"] = amount->currency;
      md["original_amount"] = amount->original_amount;
      md["fx_usd_per_unit"] = amount->rate;
    }
  }

  model::RevenueEvent e;
  e.event_id = std::move(event_id);
  e.time = *time;
  e.product_id = mapping->product_id;
  e.channel_id = mapping->channel_id;
  e.event_type = etype;
  e.amount_usd = etype == model::RevenueEventType::kRefund ? -usd : usd;
  if (!refund_key.empty()) {
    // The store replaces amount_usd by the increase of this total.
    e.cumulative = model::CumulativeAmount{refund_key, -usd};
    md["refunded_total_usd"] = usd.ToString();
  }
  e.currency = "USD";
  if (auto cust = Str(attrs, "customer_id"); !cust.empty()) e.customer_id = "lemonsqueezy:" + cust;
  md["source"] = "lemonsqueezy";
  md["lemonsqueezy_event"] = c.event_type;
  md["mapped_by"] = mapping->external_id;
  if (!amount_known) md["amount_known"] = false;
  if (Get(meta, "test_mode") && json_fields::Bool(meta, "test_mode")) md["test_mode"] = true;
  e.metadata = json::serialize(md);
  c.events.emplace_back(std::move(e));
  c.kind = Conversion::Kind::kEvents;
  return c;
}

}  // namespace tally::ingest
