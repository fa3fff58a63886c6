#include "ingest/sources/stripe_source.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/json.h"
#include "ingest/sources/json_fields.h"
#include "ingest/sources/product_mapping.h"
#include "ingest/sources/stripe_signature.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;
using json_fields::Bool;
using json_fields::Get;
using json_fields::Field;
using json_fields::Int;
using json_fields::Str;

// One revenue fact before its product is known.
struct Draft {
  model::RevenueEventType type = model::RevenueEventType::kPayment;
  std::string event_id;
  std::int64_t minor_units = 0;
  std::string currency;
  std::vector<std::pair<std::string, std::string>> keys;  // (kind, external id), most specific first
  std::string customer;
  json::object metadata;
};

Conversion Ignored(Conversion c, std::string reason) {
  c.kind = Conversion::Kind::kIgnored;
  c.reason = std::move(reason);
  return c;
}

void AddKey(Draft* d, std::string kind, std::string id) {
  if (id.empty()) return;
  for (const auto& k : d->keys) {
    if (k.second == id) return;
  }
  d->keys.emplace_back(std::move(kind), std::move(id));
}

// Price and product ids of a price-like object (a Price, or a legacy Plan).
void AddPriceKeys(Draft* d, const json::value& price) {
  AddKey(d, "price", Str(price, "id"));
  AddKey(d, "product", Str(price, "product"));
}

void AddMetadataKey(Draft* d, const json::value& object) {
  AddKey(d, "metadata.tally_product", Str(Field(object, "metadata"), "tally_product"));
}

// Months per billing interval, as a fraction num/den of one month.
bool MonthsPerInterval(std::string_view interval, std::int64_t count, std::int64_t* num,
                       std::int64_t* den) {
  if (count <= 0) count = 1;
  if (interval == "month") { *num = count; *den = 1; return true; }
  if (interval == "year") { *num = 12 * count; *den = 1; return true; }
  if (interval == "week") { *num = 12 * count; *den = 52; return true; }  // 52 weeks = 12 months
  if (interval == "day") { *num = 12 * count; *den = 365; return true; }
  return false;
}

// The subscription's monthly amount in minor units: each item's unit amount
// times quantity, divided by its interval in months (rounded to the minor unit).
core::Result<std::int64_t> MonthlyMinorUnits(const json::value& sub, Draft* d) {
  std::int64_t total = 0;
  const json::value& items = Field(Field(sub, "items"), "data");
  if (!items.is_array()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("stripe subscription '{}': items.data is missing", Str(sub, "id"))));
  }
  for (const auto& item : items.as_array()) {
    const json::value& price = Get(item, "price") ? Field(item, "price") : Field(item, "plan");
    AddPriceKeys(d, price);
    std::int64_t unit = Int(price, "unit_amount").value_or(Int(price, "amount").value_or(0));
    std::int64_t quantity = Int(item, "quantity").value_or(1);
    std::string interval = Str(Field(price, "recurring"), "interval");
    std::int64_t count = Int(Field(price, "recurring"), "interval_count").value_or(1);
    if (interval.empty()) {
      interval = Str(price, "interval");
      count = Int(price, "interval_count").value_or(1);
    }
    std::int64_t num = 1, den = 1;
    if (!MonthsPerInterval(interval, count, &num, &den)) {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "stripe subscription '{}': price '{}' has interval '{}' (want day, week, month, year)",
          Str(sub, "id"), Str(price, "id"), interval)));
    }
    // amount per month = unit * quantity * den / num, rounded half up.
    __int128 n = static_cast<__int128>(unit) * quantity * den;
    total += static_cast<std::int64_t>((2 * n + num) / (2 * num));
    if (d->currency.empty()) d->currency = Str(price, "currency");
  }
  return total;
}

core::Result<Conversion> Finish(Conversion c, std::vector<Draft> drafts, std::int64_t created,
                                std::span<const store::ProductMapping> mappings,
                                const CurrencyConverter& converter) {
  auto time = core::FromEpochInteger(created);
  if (!time) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("stripe event '{}': created {} is not a time", c.provider_event_id, created)));
  }
  for (auto& d : drafts) {
    std::vector<std::string> ids;
    for (const auto& k : d.keys) ids.push_back(k.second);
    auto mapping = FindMapping(mappings, ids);
    if (!mapping) {
      c.kind = Conversion::Kind::kUnmapped;
      c.reason = UnmappedReason("stripe", d.keys);
      c.events.clear();
      return c;
    }
    auto amount = converter.ToUsd(d.minor_units, d.currency.empty() ? "usd" : d.currency);
    if (!amount) {
      if (amount.error().code() == core::ErrorCode::kNotFound) {
        c.kind = Conversion::Kind::kUnmapped;
        c.reason = amount.error().message();
        c.events.clear();
        return c;
      }
      return std::unexpected(std::move(amount).error());
    }
    model::RevenueEvent e;
    e.event_id = d.event_id;
    e.time = *time;
    e.product_id = mapping->product_id;
    e.channel_id = mapping->channel_id;
    e.event_type = d.type;
    e.amount_usd = d.type == model::RevenueEventType::kRefund ? -amount->usd : amount->usd;
    e.currency = "USD";
    if (!d.customer.empty()) e.customer_id = d.customer;
    d.metadata["source"] = "stripe";
    d.metadata["stripe_event_id"] = c.provider_event_id;
    d.metadata["stripe_event_type"] = c.event_type;
    d.metadata["mapped_by"] = mapping->external_id;
    if (amount->currency != "USD") {
      d.metadata["original_currency"] = amount->currency;
      d.metadata["original_amount"] =
          d.type == model::RevenueEventType::kRefund ? "-" + amount->original_amount
                                                     : amount->original_amount;
      d.metadata["fx_usd_per_unit"] = amount->rate;
    }
    e.metadata = json::serialize(d.metadata);
    c.events.emplace_back(std::move(e));
  }
  c.kind = Conversion::Kind::kEvents;
  return c;
}

}  // namespace

StripeSource::StripeSource(Options options, CurrencyConverter converter)
    : options_(std::move(options)), converter_(std::move(converter)) {}

core::Status StripeSource::Verify(const SourceRequest& request, core::Timestamp now) const {
  if (options_.secrets.empty()) {
    return std::unexpected(core::Error::Unavailable(
        "stripe webhooks are not configured: set [stripe] webhook_secrets or "
        "TALLY_STRIPE_WEBHOOK_SECRETS"));
  }
  auto it = request.headers->find("stripe-signature");
  if (it == request.headers->end()) {
    return std::unexpected(core::Error::Unauthenticated("missing Stripe-Signature header"));
  }
  return VerifyStripeSignature(it->second, request.body, options_.secrets, now, options_.tolerance);
}

core::Result<Conversion> StripeSource::Convert(
    std::string_view body, std::span<const store::ProductMapping> mappings) const {
  auto parsed = core::ParseJson(body);
  if (!parsed) return std::unexpected(std::move(parsed).error());
  const json::value& evt = *parsed;
  Conversion c;
  c.provider_event_id = Str(evt, "id");
  c.event_type = Str(evt, "type");
  auto created = Int(evt, "created");
  const json::value& obj = Field(Field(evt, "data"), "object");
  if (c.provider_event_id.empty() || c.event_type.empty() || !created || !obj.is_object()) {
    return std::unexpected(core::Error::InvalidArgument(
        "stripe event: id, type, created and data.object are required"));
  }
  const std::string& type = c.event_type;
  const std::string object_id = Str(obj, "id");
  Draft d;
  d.customer = Str(obj, "customer");
  d.currency = Str(obj, "currency");
  d.metadata["stripe_object_id"] = object_id;

  if (type == "payment_intent.succeeded" || type == "charge.succeeded") {
    if (auto invoice = Str(obj, "invoice"); !invoice.empty()) {
      return Ignored(std::move(c), fmt::format("belongs to invoice '{}': counted from its invoice.paid",
                                               invoice));
    }
    bool intent = type == "payment_intent.succeeded";
    std::string payment_key = intent ? object_id : Str(obj, "payment_intent");
    if (payment_key.empty()) payment_key = object_id;
    d.event_id = "stripe:payment:" + payment_key;
    // amount_received / amount_captured are what was actually collected;
    // they read 0 on payloads that predate capture, so fall back to amount.
    auto collected = Int(obj, intent ? "amount_received" : "amount_captured").value_or(0);
    d.minor_units = collected > 0 ? collected : Int(obj, "amount").value_or(0);
    AddMetadataKey(&d, obj);
  } else if (type == "checkout.session.completed") {
    if (Str(obj, "mode") != "payment") {
      return Ignored(std::move(c), fmt::format("checkout mode '{}': counted from invoice.paid",
                                               Str(obj, "mode")));
    }
    if (Str(obj, "payment_status") != "paid") {
      return Ignored(std::move(c),
                     fmt::format("payment_status '{}': counted when its payment_intent succeeds",
                                 Str(obj, "payment_status")));
    }
    std::string intent = Str(obj, "payment_intent");
    d.event_id = "stripe:payment:" + (intent.empty() ? object_id : intent);
    d.minor_units = Int(obj, "amount_total").value_or(0);
    AddMetadataKey(&d, obj);
  } else if (type == "invoice.paid") {
    std::int64_t paid = Int(obj, "amount_paid").value_or(0);
    if (paid <= 0) {
      return Ignored(std::move(c), fmt::format("invoice '{}' paid {}: no revenue", object_id, paid));
    }
    std::string key = Str(obj, "payment_intent");
    if (key.empty()) key = Str(obj, "charge");
    if (key.empty()) key = object_id;
    d.event_id = "stripe:payment:" + key;
    d.minor_units = paid;
    const json::value& lines = Field(Field(obj, "lines"), "data");
    if (lines.is_array()) {
      for (const auto& line : lines.as_array()) {
        AddPriceKeys(&d, Get(line, "price") ? Field(line, "price") : Field(line, "plan"));
        // API versions from 2025-03-31 name the price under pricing.price_details.
        const json::value& details = Field(Field(line, "pricing"), "price_details");
        AddKey(&d, "price", Str(details, "price"));
        AddKey(&d, "product", Str(details, "product"));
      }
    }
    AddMetadataKey(&d, obj);
    if (auto sub = Str(obj, "subscription"); !sub.empty()) d.metadata["subscription"] = sub;
    if (auto reason = Str(obj, "billing_reason"); !reason.empty()) d.metadata["billing_reason"] = reason;
  } else if (type == "customer.subscription.created" || type == "customer.subscription.deleted" ||
             type == "customer.subscription.updated") {
    bool start = type == "customer.subscription.created";
    if (type == "customer.subscription.updated") {
      const json::value& previous = Field(Field(evt, "data"), "previous_attributes");
      bool turned_on = Bool(obj, "cancel_at_period_end") &&
                       (!Get(previous, "cancel_at_period_end") || !Bool(previous, "cancel_at_period_end"));
      if (!turned_on) {
        return Ignored(std::move(c), "subscription update without a cancellation: nothing to count");
      }
      d.metadata["cancel_at_period_end"] = true;
    }
    d.type = start ? model::RevenueEventType::kSubscriptionStart
                   : model::RevenueEventType::kSubscriptionCancel;
    d.event_id = fmt::format("stripe:{}:{}", start ? "subscription_start" : "subscription_cancel",
                             object_id);
    d.currency.clear();
    d.minor_units = TALLY_TRY(MonthlyMinorUnits(obj, &d));
    if (auto cur = Str(obj, "currency"); !cur.empty()) d.currency = cur;
    AddMetadataKey(&d, obj);
    d.metadata["subscription"] = object_id;
    d.metadata["amount_is"] = "monthly";
  } else if (type == "charge.refunded") {
    d.type = model::RevenueEventType::kRefund;
    const json::value& refunds = Field(Field(obj, "refunds"), "data");
    if (refunds.is_array() && !refunds.as_array().empty()) {
      // Newest first: the refund this event announces.
      const json::value& refund = refunds.as_array().front();
      d.event_id = "stripe:refund:" + Str(refund, "id");
      d.minor_units = Int(refund, "amount").value_or(0);
      if (auto cur = Str(refund, "currency"); !cur.empty()) d.currency = cur;
    } else {
      // Newer API versions do not embed refunds: the increase is this refund.
      d.event_id = "stripe:refund:" + c.provider_event_id;
      std::int64_t now_refunded = Int(obj, "amount_refunded").value_or(0);
      std::int64_t before =
          Int(Field(Field(evt, "data"), "previous_attributes"), "amount_refunded").value_or(0);
      d.minor_units = now_refunded - before;
    }
    if (d.minor_units <= 0) {
      return Ignored(std::move(c), fmt::format("refund of charge '{}' has no positive amount", object_id));
    }
    d.metadata["charge"] = object_id;
    if (auto pi = Str(obj, "payment_intent"); !pi.empty()) d.metadata["payment_intent"] = pi;
    AddMetadataKey(&d, obj);
  } else {
    return Ignored(std::move(c), fmt::format("stripe event type '{}' is not counted", type));
  }
  std::vector<Draft> drafts;
  drafts.push_back(std::move(d));
  return Finish(std::move(c), std::move(drafts), *created, mappings, converter_);
}

}  // namespace tally::ingest
