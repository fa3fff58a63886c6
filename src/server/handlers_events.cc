// POST /v1/events/{table}: one JSON object, a JSON array, or NDJSON.
// Parsed and validated on the I/O thread; answered from the pipeline's commit
// callback, so a 200 means the batch is durable. The whole batch is refused
// (400, every problem listed) if any event is invalid.
#include <boost/json/object.hpp>

#include "ingest/body_parser.h"
#include "model/validate.h"
#include "server/handlers.h"

namespace tally::server {

void RegisterEventRoutes(Router& router, Services& s) {
  router.Add("POST", "/v1/events/{table}", store::kScopeIngest, [&s](std::shared_ptr<Call> call, Responder respond) {
    auto kind = model::ParseTableName(call->params["table"]);
    if (!kind) {
      respond(ErrorResponse(kind.error()));
      return;
    }
    auto format = ingest::BodyFormatFromContentType(call->request.Header("content-type").value_or(""));
    auto items = ingest::ParseBody(call->request.body, format);
    if (!items) {
      respond(ErrorResponse(items.error()));
      return;
    }
    auto events = model::ParseEvents(*kind, *items, s.prices);
    if (!events) {
      respond(ErrorResponse(events.error()));
      return;
    }
    auto n = static_cast<std::int64_t>(events->size());
    model::Batch batch{"http", std::move(*events)};
    std::string table(model::TableName(*kind));
    auto submitted = s.pipeline.Submit(
        std::move(batch), [&s, table, n, respond](core::Result<store::AppendStats> stats) {
          if (!stats) {
            respond(ErrorResponse(stats.error()));
            return;
          }
          s.metrics.ObserveIngest(table, stats->accepted, stats->duplicates, n);
          respond(JsonResponse(200, boost::json::object{{"table", table},
                                                        {"received", n},
                                                        {"accepted", stats->accepted},
                                                        {"duplicates", stats->duplicates}}));
        });
    if (!submitted) respond(ErrorResponse(submitted.error()));
  });
}

}  // namespace tally::server
