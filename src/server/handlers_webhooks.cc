// Webhooks and their parking lot.
//   POST /webhooks/stripe            public: authenticated by Stripe-Signature
//   POST /webhooks/lemonsqueezy      public: authenticated by X-Signature
//   POST /webhooks/gumroad/{token}   public: authenticated by the secret URL token
//   POST /webhooks/github            public: authenticated by X-Hub-Signature-256 -> ops_events
//   POST /v1/integrations/litellm    ingest: StandardLoggingPayload(s) -> llm_calls
//   GET  /v1/parked[?all=true]       read: parked deliveries (replayed ones with all)
//   POST /v1/parked/replay           admin: retry every parked delivery (after a rate change)
//   GET  /v1/mappings[?provider=P]   read
//   POST /v1/mappings                admin: {provider, external_id, product_id, channel_id?};
//                                    replays that provider's parked deliveries in the same
//                                    transaction
// A webhook is answered only after what it became is durable: events through
// the pipeline (ack after the group commit), or the parked row. A bad
// signature is 400 and nothing is stored (Stripe's documented contract).
#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/ids.h"
#include "core/json.h"
#include "ingest/body_parser.h"
#include "ingest/sources/json_fields.h"
#include "ingest/sources/litellm_source.h"
#include "server/handlers.h"

namespace tally::server {
namespace {

namespace json = boost::json;

json::object ParkedToJson(const store::ParkedEvent& p) {
  json::object o{{"id", p.id},
                 {"provider", p.provider},
                 {"provider_event_id", p.provider_event_id},
                 {"event_type", p.event_type},
                 {"reason", p.reason},
                 {"received_at", core::FormatRfc3339(p.received_at)},
                 {"payload_bytes", p.payload.size()}};
  o["replayed_at"] = p.replayed_at ? json::value(core::FormatRfc3339(*p.replayed_at)) : json::value();
  return o;
}

json::object MappingToJson(const store::ProductMapping& m) {
  json::object o{{"provider", m.provider},
                 {"external_id", m.external_id},
                 {"product_id", m.product_id},
                 {"created_at", core::FormatRfc3339(m.created_at)}};
  o["channel_id"] = m.channel_id ? json::value(*m.channel_id) : json::value();
  return o;
}

json::object ReplayToJson(const store::ReplayStats& r) {
  return {{"replayed", r.replayed},
          {"still_parked", r.still_parked},
          {"accepted", r.accepted},
          {"duplicates", r.duplicates}};
}

// Verified, converted on the blocking pool (it reads the mappings), then
// stored through the pipeline or parked.
void HandleWebhook(Services& s, const ingest::Source& source, std::shared_ptr<Call> call,
                   Responder respond) {
  ingest::SourceRequest request{&call->request.headers, call->request.body, call->params};
  if (auto verified = source.Verify(request, s.clock.Now()); !verified) {
    core::Error e = std::move(verified).error();
    if (e.code() == core::ErrorCode::kUnauthenticated) {
      // Providers expect 400 for a signature they did not make; 401 would
      // suggest a bearer key could help.
      respond(ErrorResponse(core::Error::InvalidArgument(e.message())));
    } else {
      respond(ErrorResponse(e));
    }
    return;
  }
  auto payload = source.Payload(request);
  if (!payload) {
    respond(ErrorResponse(payload.error()));
    return;
  }
  // `call` rides along: the request (and its connection) must outlive the answer.
  s.run_blocking([&s, &source, call, payload = std::make_shared<std::string>(std::move(*payload)), respond] {
    std::string provider(source.provider());
    auto mappings = s.store.ListMappings(provider);
    if (!mappings) {
      respond(ErrorResponse(mappings.error()));
      return;
    }
    auto conv = source.Convert(*payload, *mappings);
    if (!conv) {
      respond(ErrorResponse(conv.error()));
      return;
    }
    switch (conv->kind) {
      case ingest::Conversion::Kind::kIgnored:
        respond(JsonResponse(200, json::object{{"status", "ignored"},
                                               {"event_type", conv->event_type},
                                               {"reason", conv->reason}}));
        return;
      case ingest::Conversion::Kind::kUnmapped: {
        store::ParkedEvent parked;
        parked.provider = provider;
        parked.provider_event_id = conv->provider_event_id;
        parked.event_type = conv->event_type;
        parked.reason = conv->reason;
        parked.payload = *payload;
        parked.received_at = s.clock.Now();
        auto outcome = s.store.ParkEvent(parked, s.sources->resolver());
        if (!outcome) {
          respond(ErrorResponse(outcome.error()));
          return;
        }
        if (outcome->kind == store::ParkOutcome::Kind::kStored) {
          respond(JsonResponse(200, json::object{{"status", "stored"},
                                                 {"accepted", outcome->accepted},
                                                 {"duplicates", outcome->duplicates}}));
          return;
        }
        // 202: accepted so the provider stops retrying, not yet counted.
        respond(JsonResponse(
            202, json::object{{"status", "parked"},
                              {"parked_id", outcome->parked_id},
                              {"duplicate", outcome->kind == store::ParkOutcome::Kind::kDuplicate},
                              {"reason", conv->reason}}));
        return;
      }
      case ingest::Conversion::Kind::kEvents:
        break;
    }
    auto n = static_cast<std::int64_t>(conv->events.size());
    std::string table = conv->events.empty()
                            ? std::string("revenue_events")
                            : std::string(model::TableName(model::KindOf(conv->events.front())));
    model::Batch batch{"webhook:" + provider, std::move(conv->events)};
    auto submitted = s.pipeline.Submit(
        std::move(batch), [&s, table, n, respond](core::Result<store::AppendStats> stats) {
          if (!stats) {
            respond(ErrorResponse(stats.error()));
            return;
          }
          s.metrics.ObserveIngest(table, stats->accepted, stats->duplicates, n);
          respond(JsonResponse(200, json::object{{"status", "stored"},
                                                 {"accepted", stats->accepted},
                                                 {"duplicates", stats->duplicates}}));
        });
    if (!submitted) respond(ErrorResponse(submitted.error()));
  });
}

core::Result<store::ProductMapping> ParseMapping(const Services& s, std::string_view body) {
  auto parsed = TALLY_TRY(core::ParseJson(body));
  if (!parsed.is_object()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("body must be a JSON object, got {}", core::JsonTypeName(parsed))));
  }
  const auto& o = parsed.as_object();
  for (const auto& [key, _] : o) {
    if (key != "provider" && key != "external_id" && key != "product_id" && key != "channel_id") {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "unknown field '{}' (want provider, external_id, product_id, channel_id)",
          std::string_view(key))));
    }
  }
  using ingest::json_fields::Str;
  store::ProductMapping m;
  m.provider = Str(parsed, "provider");
  m.external_id = Str(parsed, "external_id");
  m.product_id = core::LowerAscii(Str(parsed, "product_id"));
  if (auto ch = Str(parsed, "channel_id"); !ch.empty()) m.channel_id = core::LowerAscii(ch);
  m.created_at = s.clock.Now();
  auto providers = s.sources->MappedProviders();
  if (std::find(providers.begin(), providers.end(), m.provider) == providers.end()) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "provider '{}' takes no product mappings (want one of: {})", m.provider,
        fmt::join(providers, ", "))));
  }
  if (m.external_id.empty() || m.external_id.size() > 256) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "external_id '{}' must be 1-256 characters (a price, product, variant or repository id, "
        "or \"*\")",
        m.external_id)));
  }
  if (!core::IsUuid(m.product_id)) {
    return std::unexpected(
        core::Error::InvalidArgument(fmt::format("product_id '{}' is not a UUID", m.product_id)));
  }
  if (m.channel_id && !core::IsUuid(*m.channel_id)) {
    return std::unexpected(
        core::Error::InvalidArgument(fmt::format("channel_id '{}' is not a UUID", *m.channel_id)));
  }
  return m;
}

}  // namespace

void RegisterWebhookRoutes(Router& router, Services& s) {
  if (s.sources == nullptr) return;
  if (const ingest::Source* stripe = s.sources->Find("stripe")) {
    router.Add("POST", "/webhooks/stripe", kPublic,
               [&s, stripe](std::shared_ptr<Call> call, Responder respond) {
                 HandleWebhook(s, *stripe, std::move(call), std::move(respond));
               });
  }

  if (const ingest::Source* ls = s.sources->Find("lemonsqueezy")) {
    router.Add("POST", "/webhooks/lemonsqueezy", kPublic,
               [&s, ls](std::shared_ptr<Call> call, Responder respond) {
                 HandleWebhook(s, *ls, std::move(call), std::move(respond));
               });
  }
  if (const ingest::Source* github = s.sources->Find("github")) {
    router.Add("POST", "/webhooks/github", kPublic,
               [&s, github](std::shared_ptr<Call> call, Responder respond) {
                 HandleWebhook(s, *github, std::move(call), std::move(respond));
               });
  }
  if (const ingest::Source* gumroad = s.sources->Find("gumroad")) {
    router.Add("POST", "/webhooks/gumroad/{token}", kPublic,
               [&s, gumroad](std::shared_ptr<Call> call, Responder respond) {
                 HandleWebhook(s, *gumroad, std::move(call), std::move(respond));
               });
  }

  if (const auto* litellm = dynamic_cast<const ingest::LiteLlmSource*>(s.sources->Find("litellm"))) {
    router.Add("POST", "/v1/integrations/litellm", store::kScopeIngest,
               [&s, litellm](std::shared_ptr<Call> call, Responder respond) {
                 auto format = ingest::BodyFormatFromContentType(
                     call->request.Header("content-type").value_or(""));
                 auto items = ingest::ParseBody(call->request.body, format);
                 if (!items) {
                   respond(ErrorResponse(items.error()));
                   return;
                 }
                 auto events = litellm->ConvertItems(*items);
                 if (!events) {
                   respond(ErrorResponse(events.error()));
                   return;
                 }
                 auto n = static_cast<std::int64_t>(events->size());
                 auto submitted = s.pipeline.Submit(
                     model::Batch{"litellm", std::move(*events)},
                     [&s, n, respond](core::Result<store::AppendStats> stats) {
                       if (!stats) {
                         respond(ErrorResponse(stats.error()));
                         return;
                       }
                       s.metrics.ObserveIngest("llm_calls", stats->accepted, stats->duplicates, n);
                       respond(JsonResponse(200, json::object{{"table", "llm_calls"},
                                                              {"received", n},
                                                              {"accepted", stats->accepted},
                                                              {"duplicates", stats->duplicates}}));
                     });
                 if (!submitted) respond(ErrorResponse(submitted.error()));
               });
  }

  router.Add("GET", "/v1/parked", store::kScopeRead, [&s](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, call, respond] {
      auto it = call->request.query.find("all");
      bool all = it != call->request.query.end() && (it->second == "true" || it->second == "1");
      auto parked = s.store.ListParked(all);
      if (!parked) {
        respond(ErrorResponse(parked.error()));
        return;
      }
      json::array items;
      for (const auto& p : *parked) items.push_back(ParkedToJson(p));
      respond(JsonResponse(200, json::object{{"items", std::move(items)}}));
    });
  });

  router.Add("POST", "/v1/parked/replay", store::kScopeAdmin,
             [&s](std::shared_ptr<Call>, Responder respond) {
               s.run_blocking([&s, respond] {
                 auto stats = s.store.ReplayParked(s.sources->resolver(), s.clock.Now());
                 if (!stats) {
                   respond(ErrorResponse(stats.error()));
                   return;
                 }
                 respond(JsonResponse(200, ReplayToJson(*stats)));
               });
             });

  router.Add("GET", "/v1/mappings", store::kScopeRead, [&s](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, call, respond] {
      std::vector<std::string> providers = s.sources->MappedProviders();
      if (auto it = call->request.query.find("provider"); it != call->request.query.end()) {
        providers = {it->second};
      }
      json::array items;
      for (const auto& provider : providers) {
        auto mappings = s.store.ListMappings(provider);
        if (!mappings) {
          respond(ErrorResponse(mappings.error()));
          return;
        }
        for (const auto& m : *mappings) items.push_back(MappingToJson(m));
      }
      respond(JsonResponse(200, json::object{{"items", std::move(items)}}));
    });
  });

  router.Add("POST", "/v1/mappings", store::kScopeAdmin, [&s](std::shared_ptr<Call> call, Responder respond) {
    s.run_blocking([&s, call, respond] {
      auto mapping = ParseMapping(s, call->request.body);
      if (!mapping) {
        respond(ErrorResponse(mapping.error()));
        return;
      }
      auto stats = s.store.PutMappingAndReplay(*mapping, s.sources->resolver());
      if (!stats) {
        respond(ErrorResponse(stats.error()));
        return;
      }
      respond(JsonResponse(201, json::object{{"mapping", MappingToJson(*mapping)},
                                             {"replay", ReplayToJson(*stats)}}));
    });
  });
}

}  // namespace tally::server
