// CRUD for /v1/products, /v1/agents, /v1/channels (seed §3.1 entities).
//   POST   /v1/{things}       create (409 if the id exists)     admin
//   PUT    /v1/{things}/{id}  create or update; absent fields keep their value   admin
//   PATCH  /v1/{things}/{id}  update only (404 if unknown)      admin
//   GET    /v1/{things}       list                               read
//   GET    /v1/{things}/{id}  one (404 if unknown)               read
// One template serves the three entity kinds: only parsing and storage differ.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include <mutex>

#include "core/json.h"
#include "model/validate.h"
#include "server/handlers.h"

namespace tally::server {
namespace {

struct ProductOps {
  using T = model::Product;
  static constexpr const char* kPath = "/v1/products";
  static constexpr const char* kNoun = "product";
  static auto Parse(const boost::json::value& j, const T* e, const std::string& id, core::Timestamp now) {
    return model::ParseProduct(j, e, id, now);
  }
  static auto Get(store::Store& s, const std::string& id) { return s.GetProduct(id); }
  static auto List(store::Store& s) { return s.ListProducts(); }
  static auto Put(store::Store& s, const T& v) { return s.PutProduct(v); }
};

struct AgentOps {
  using T = model::Agent;
  static constexpr const char* kPath = "/v1/agents";
  static constexpr const char* kNoun = "agent";
  static auto Parse(const boost::json::value& j, const T* e, const std::string& id, core::Timestamp now) {
    return model::ParseAgent(j, e, id, now);
  }
  static auto Get(store::Store& s, const std::string& id) { return s.GetAgent(id); }
  static auto List(store::Store& s) { return s.ListAgents(); }
  static auto Put(store::Store& s, const T& v) { return s.PutAgent(v); }
};

struct ChannelOps {
  using T = model::RevenueChannel;
  static constexpr const char* kPath = "/v1/channels";
  static constexpr const char* kNoun = "channel";
  static auto Parse(const boost::json::value& j, const T* e, const std::string& id, core::Timestamp now) {
    return model::ParseChannel(j, e, id, now);
  }
  static auto Get(store::Store& s, const std::string& id) { return s.GetChannel(id); }
  static auto List(store::Store& s) { return s.ListChannels(); }
  static auto Put(store::Store& s, const T& v) { return s.PutChannel(v); }
};

enum class WriteMode { kCreate, kUpsert, kUpdate };

template <typename Ops>
HttpResponse Write(Services& s, const Call& call, WriteMode mode) {
  // Read-check-write must not interleave between two requests (two POSTs of
  // one id both getting 201, or a PATCH losing another's change). Entity
  // writes are rare, so one lock per entity kind costs nothing.
  static std::mutex write_mu;
  std::lock_guard lock(write_mu);
  auto body = core::ParseJson(call.request.body);
  if (!body) return ErrorResponse(body.error());
  if (!body->is_object()) {
    return ErrorResponse(core::Error::InvalidArgument(
        fmt::format("body must be a JSON object, got {}", core::JsonTypeName(*body))));
  }
  std::string path_id;
  if (auto it = call.params.find("id"); it != call.params.end()) path_id = it->second;
  std::optional<typename Ops::T> existing;
  if (!path_id.empty()) {
    auto got = Ops::Get(s.store, path_id);
    if (got) {
      existing = std::move(*got);
    } else if (got.error().code() != core::ErrorCode::kNotFound) {
      return ErrorResponse(got.error());
    }
  }
  if (mode == WriteMode::kUpdate && !existing) {
    return ErrorResponse(core::Error::NotFound(fmt::format("no {} with id '{}'", Ops::kNoun, path_id)));
  }
  auto parsed = Ops::Parse(*body, existing ? &*existing : nullptr, path_id, s.clock.Now());
  if (!parsed) return ErrorResponse(parsed.error());
  int status = existing ? 200 : 201;
  if (mode == WriteMode::kCreate) {
    auto clash = Ops::Get(s.store, parsed->id);
    if (!clash && clash.error().code() != core::ErrorCode::kNotFound) return ErrorResponse(clash.error());
    if (clash) {
      return ErrorResponse(core::Error::Conflict(fmt::format("{} '{}' already exists; use PUT {}/{} to update",
                                                             Ops::kNoun, parsed->id, Ops::kPath, parsed->id)));
    }
  }
  if (auto put = Ops::Put(s.store, *parsed); !put) return ErrorResponse(put.error());
  if constexpr (std::is_same_v<typename Ops::T, model::Product>) {
    if (status == 201 && s.on_product_created) s.on_product_created(*parsed);
  }
  return JsonResponse(status, model::ToJson(*parsed));
}

template <typename Ops>
void RegisterEntity(Router& router, Services& s) {
  std::string base = Ops::kPath;
  std::string one = base + "/{id}";
  auto blocking = [&s](auto fn) {
    return [&s, fn](std::shared_ptr<Call> call, Responder respond) {
      s.run_blocking([&s, fn, call = std::move(call), respond = std::move(respond)] { respond(fn(s, *call)); });
    };
  };
  router.Add("POST", base, store::kScopeAdmin,
             blocking([](Services& s, const Call& c) { return Write<Ops>(s, c, WriteMode::kCreate); }));
  router.Add("PUT", one, store::kScopeAdmin,
             blocking([](Services& s, const Call& c) { return Write<Ops>(s, c, WriteMode::kUpsert); }));
  router.Add("PATCH", one, store::kScopeAdmin,
             blocking([](Services& s, const Call& c) { return Write<Ops>(s, c, WriteMode::kUpdate); }));
  router.Add("GET", base, store::kScopeRead, blocking([](Services& s, const Call&) {
               auto all = Ops::List(s.store);
               if (!all) return ErrorResponse(all.error());
               boost::json::array items;
               items.reserve(all->size());
               for (const auto& e : *all) items.push_back(model::ToJson(e));
               return JsonResponse(200, boost::json::object{{"items", std::move(items)}});
             }));
  router.Add("GET", one, store::kScopeRead, blocking([](Services& s, const Call& c) {
               auto got = Ops::Get(s.store, c.params.at("id"));
               if (!got) return ErrorResponse(got.error());
               return JsonResponse(200, model::ToJson(*got));
             }));
}

}  // namespace

void RegisterEntityRoutes(Router& router, Services& s) {
  RegisterEntity<ProductOps>(router, s);
  RegisterEntity<AgentOps>(router, s);
  RegisterEntity<ChannelOps>(router, s);
}

}  // namespace tally::server
