// ParseProduct / ParseAgent / ParseChannel: create (no `existing`) or update
// (absent fields keep their stored values; null clears an optional column).
#include <fmt/format.h>

#include "core/ids.h"
#include "core/json.h"
#include "model/field_reader.h"
#include "model/validate.h"

namespace tally::model {
namespace {

namespace json = boost::json;
using internal::FieldReader;
using internal::kMaxText;
using internal::MoneyRule;

constexpr MoneyRule kMonthlyCostRule{2, 100'000'000, false};  // NUMERIC(10,2)
constexpr MoneyRule kDailyBudgetRule{2, 100'000'000, false};  // NUMERIC(10,2)

namespace product {
enum : int { kId, kName, kType, kStatus, kLaunchedAt, kRevenueModel, kMonthlyCost, kMetadata, kCreatedAt };
constexpr std::string_view kNames[] = {"id",          "name",       "type",     "status",    "launched_at",
                                       "revenue_model", "monthly_cost", "metadata", "created_at"};
}  // namespace product

namespace agent {
enum : int { kId, kRole, kDefaultModel, kDailyBudget, kStatus, kMetadata, kCreatedAt };
constexpr std::string_view kNames[] = {"id",     "role",     "default_model", "daily_budget",
                                       "status", "metadata", "created_at"};
}  // namespace agent

namespace channel {
enum : int { kId, kProductId, kChannelType, kChannelConfig, kCreatedAt };
constexpr std::string_view kNames[] = {"id", "product_id", "channel_type", "channel_config", "created_at"};
}  // namespace channel

// A NOT NULL column: required when creating; on update absent keeps the
// stored value, but null is a problem (it cannot be cleared).
const json::value* Column(FieldReader& r, int i, bool creating) {
  if (creating) return r.Required(i);
  if (r.Given(i) && r.Optional(i) == nullptr) r.Problem(i, nullptr, "cannot be null");
  return r.Optional(i);
}

// A nullable column: absent keeps, null clears, a value is read by `read`.
template <typename T, typename Read>
void Nullable(FieldReader& r, int i, std::optional<T>* out, Read read) {
  if (!r.Given(i)) return;
  const json::value* v = r.Optional(i);
  if (v == nullptr) {
    out->reset();
    return;
  }
  read(*v, &out->emplace());
}

// Metadata-like text columns: absent keeps, null clears, an object is stored.
void ObjectColumn(FieldReader& r, int i, std::string* out) {
  if (!r.Given(i)) return;
  if (const json::value* v = r.Optional(i)) {
    r.Object(i, *v, out);
  } else {
    out->clear();
  }
}

core::Result<const json::object*> AsObject(const json::value& v, std::string_view what) {
  if (const json::object* obj = v.if_object()) return obj;
  return std::unexpected(core::Error::InvalidArgument(
      fmt::format("a {} must be a JSON object, got {}", what, core::JsonTypeName(v))));
}

core::Error Invalid(std::string_view what, std::vector<core::ErrorDetail> details) {
  std::string message = fmt::format("invalid {}:", what);
  for (size_t i = 0; i < details.size(); ++i) {
    message += fmt::format("{} {} {}", i == 0 ? "" : ";", details[i].field, details[i].message);
  }
  return core::Error(core::ErrorCode::kInvalidArgument, std::move(message), std::move(details));
}

// Resolves a UUID id: the path's, else the stored one, else the body's, else a
// new random one. A body id that disagrees is a problem.
void ResolveUuidId(FieldReader& r, int i, const std::string& path_id, const std::string* stored,
                   std::string* out) {
  std::string body_id;
  bool body_ok = false;
  if (const json::value* v = r.Optional(i)) body_ok = r.Uuid(i, *v, &body_id);
  if (!path_id.empty()) {
    if (!core::IsUuid(path_id)) {
      r.Problem(i, nullptr, fmt::format("'{}' in the path is not a UUID", path_id));
      return;
    }
    *out = core::LowerAscii(path_id);
  } else if (stored != nullptr) {
    *out = *stored;
  } else if (body_ok) {
    *out = body_id;
    return;
  } else if (r.Optional(i) == nullptr) {
    try {
      *out = core::NewUuidV4();
    } catch (const std::exception& e) {  // only when the OS has no entropy
      r.Problem(i, nullptr, fmt::format("cannot generate an id: {}", e.what()));
    }
    return;
  }
  if (body_ok && body_id != *out) {
    r.Problem(i, r.Optional(i), fmt::format("does not match the id '{}' it is stored under", *out));
  }
}

}  // namespace

core::Result<Product> ParseProduct(const json::value& body, const Product* existing, const std::string& path_id,
                                   core::Timestamp now) {
  using namespace product;
  const json::object* obj = TALLY_TRY(AsObject(body, "product"));
  std::vector<core::ErrorDetail> details;
  FieldReader r(kNames, "product", &details, -1);
  r.Gather(*obj);
  const bool creating = existing == nullptr;
  Product p = creating ? Product{} : *existing;
  ResolveUuidId(r, kId, path_id, creating ? nullptr : &existing->id, &p.id);
  if (const json::value* v = Column(r, kName, creating)) r.String(kName, *v, kMaxText, &p.name);
  if (const json::value* v = Column(r, kType, creating)) r.Slug(kType, *v, &p.type);
  if (const json::value* v = Column(r, kStatus, false)) r.Slug(kStatus, *v, &p.status);
  Nullable(r, kLaunchedAt, &p.launched_at, [&](const json::value& v, core::Timestamp* t) { r.Time(kLaunchedAt, v, t); });
  Nullable(r, kRevenueModel, &p.revenue_model,
           [&](const json::value& v, std::string* s) { r.Slug(kRevenueModel, v, s); });
  Nullable(r, kMonthlyCost, &p.monthly_cost,
           [&](const json::value& v, core::Money* m) { r.Amount(kMonthlyCost, v, kMonthlyCostRule, m); });
  ObjectColumn(r, kMetadata, &p.metadata);
  // created_at is server-set; a body echoing it back (GET then PUT) is fine.
  if (creating) p.created_at = now;
  if (r.problems() != 0) return std::unexpected(Invalid("product", std::move(details)));
  return p;
}

core::Result<Agent> ParseAgent(const json::value& body, const Agent* existing, const std::string& path_id,
                               core::Timestamp now) {
  using namespace agent;
  const json::object* obj = TALLY_TRY(AsObject(body, "agent"));
  std::vector<core::ErrorDetail> details;
  FieldReader r(kNames, "agent", &details, -1);
  r.Gather(*obj);
  const bool creating = existing == nullptr;
  Agent a = creating ? Agent{} : *existing;
  // Agent ids are chosen by the operator, never generated.
  std::string body_id;
  bool body_ok = false;
  if (const json::value* v = r.Optional(kId)) body_ok = r.Slug(kId, *v, &body_id);
  if (!path_id.empty()) {
    if (core::IsAgentId(path_id)) {
      a.id = path_id;
    } else {
      r.Problem(kId, nullptr, fmt::format("'{}' in the path is not a valid agent id (a lowercase slug)", path_id));
    }
  } else if (creating && body_ok) {
    a.id = body_id;
  } else if (creating && r.Optional(kId) == nullptr) {
    r.Problem(kId, nullptr, "is required (in the path or the body)");
  }
  if (body_ok && !a.id.empty() && body_id != a.id) {
    r.Problem(kId, r.Optional(kId), fmt::format("does not match the id '{}' it is stored under", a.id));
  }
  if (const json::value* v = Column(r, kRole, creating)) r.Slug(kRole, *v, &a.role);
  Nullable(r, kDefaultModel, &a.default_model,
           [&](const json::value& v, std::string* s) { r.String(kDefaultModel, v, kMaxText, s); });
  Nullable(r, kDailyBudget, &a.daily_budget,
           [&](const json::value& v, core::Money* m) { r.Amount(kDailyBudget, v, kDailyBudgetRule, m); });
  if (const json::value* v = Column(r, kStatus, false)) r.Slug(kStatus, *v, &a.status);
  ObjectColumn(r, kMetadata, &a.metadata);
  if (creating) a.created_at = now;
  if (r.problems() != 0) return std::unexpected(Invalid("agent", std::move(details)));
  return a;
}

core::Result<RevenueChannel> ParseChannel(const json::value& body, const RevenueChannel* existing,
                                          const std::string& path_id, core::Timestamp now) {
  using namespace channel;
  const json::object* obj = TALLY_TRY(AsObject(body, "revenue channel"));
  std::vector<core::ErrorDetail> details;
  FieldReader r(kNames, "revenue channel", &details, -1);
  r.Gather(*obj);
  const bool creating = existing == nullptr;
  RevenueChannel c = creating ? RevenueChannel{} : *existing;
  ResolveUuidId(r, kId, path_id, creating ? nullptr : &existing->id, &c.id);
  Nullable(r, kProductId, &c.product_id, [&](const json::value& v, std::string* s) { r.Uuid(kProductId, v, s); });
  if (const json::value* v = Column(r, kChannelType, creating)) r.Slug(kChannelType, *v, &c.channel_type);
  ObjectColumn(r, kChannelConfig, &c.channel_config);
  if (creating) c.created_at = now;
  if (r.problems() != 0) return std::unexpected(Invalid("revenue channel", std::move(details)));
  return c;
}

}  // namespace tally::model
