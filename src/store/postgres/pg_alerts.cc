// PostgresStore: the alerts table (store/alerts.h). Fire runs as one
// statement-level upsert against the partial unique index alerts_one_firing,
// so two nodes evaluating the same rule never create two firing alerts; ack
// and silence write their audit_log row in the same transaction.
#include <fmt/format.h>

#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

constexpr std::string_view kColumns =
    "id, rule, subject, severity, state, message, details, tally_us(fired_at), "
    "tally_us(last_seen_at), tally_us(resolved_at), tally_us(acked_at), coalesce(acked_by, ''), "
    "tally_us(silenced_until)";

AlertRecord ReadAlert(const PGresult* r, int i) {
  auto opt_time = [&](int c) -> std::optional<core::Timestamp> {
    if (auto v = pg::OptInt(r, i, c)) return core::FromMicros(*v);
    return std::nullopt;
  };
  AlertRecord a;
  a.id = pg::Int(r, i, 0);
  a.rule = pg::Text(r, i, 1);
  a.subject = pg::Text(r, i, 2);
  a.severity = pg::Text(r, i, 3);
  a.state = pg::Text(r, i, 4);
  a.message = pg::Text(r, i, 5);
  a.details = pg::Text(r, i, 6);
  a.fired_at = core::FromMicros(pg::Int(r, i, 7));
  a.last_seen_at = core::FromMicros(pg::Int(r, i, 8));
  a.resolved_at = opt_time(9);
  a.acked_at = opt_time(10);
  a.acked_by = pg::Text(r, i, 11);
  a.silenced_until = opt_time(12);
  return a;
}

Result<AlertRecord> ReadAlertById(PGconn* conn, std::int64_t id, std::string_view context) {
  auto res = TALLY_TRY(pg::Run(conn, fmt::format("SELECT {} FROM alerts WHERE id = $1", kColumns),
                               {std::to_string(id)}, context));
  if (PQntuples(res.get()) == 0) {
    return std::unexpected(core::Error::NotFound(fmt::format("alert {} not found", id)));
  }
  return ReadAlert(res.get(), 0);
}

std::string Us(core::Timestamp t) { return std::to_string(core::ToMicros(t)); }

}  // namespace

Result<AlertFireOutcome> PostgresStore::FireAlert(const AlertRecord& alert) {
  if (alert.rule.empty() || alert.subject.empty()) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "alert needs a rule and a subject, got rule '{}' subject '{}'", alert.rule, alert.subject)));
  }
  std::string context = fmt::format("alert {} on {}", alert.rule, alert.subject);
  auto lease = TALLY_TRY(Acquire(context));
  PGconn* conn = lease.get();
  AlertFireOutcome out;
  TALLY_RETURN_IF_ERROR(InTransaction(conn, context, Writer::kNone, [&]() -> Status {
    // xmax = 0 tells a fresh insert from the update of the firing row. A
    // silence set on an earlier episode still holds for a new one.
    auto res = TALLY_TRY(pg::Run(
        conn,
        "INSERT INTO alerts AS a (rule, subject, severity, state, message, details, fired_at, "
        "last_seen_at, silenced_until) VALUES ($1, $2, $3, 'firing', $4, $5, "
        "tally_ts($6::bigint), tally_ts($7::bigint), (SELECT max(silenced_until) FROM alerts "
        "WHERE rule = $1 AND subject = $2 AND silenced_until > tally_ts($6::bigint))) "
        "ON CONFLICT (rule, subject) WHERE state = 'firing' DO UPDATE SET "
        "severity = excluded.severity, message = excluded.message, details = excluded.details, "
        "last_seen_at = excluded.last_seen_at RETURNING id, xmax = 0",
        {alert.rule, alert.subject, alert.severity, alert.message,
         alert.details.empty() ? std::string("{}") : alert.details, Us(alert.fired_at),
         Us(alert.last_seen_at)},
        context));
    std::int64_t id = pg::Int(res.get(), 0, 0);
    out.created = pg::Text(res.get(), 0, 1) == "t";
    out.alert = TALLY_TRY(ReadAlertById(conn, id, context));
    return core::OkStatus();
  }));
  return out;
}

Status PostgresStore::ResolveAlert(std::int64_t id, core::Timestamp at) {
  std::string context = fmt::format("resolve alert {}", id);
  auto lease = TALLY_TRY(Acquire(context));
  PGconn* conn = lease.get();
  return InTransaction(conn, context, Writer::kNone, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadAlertById(conn, id, context));
    TALLY_TRY(pg::Run(conn,
                      "UPDATE alerts SET state = 'resolved', resolved_at = tally_ts($2::bigint) "
                      "WHERE id = $1 AND state = 'firing'",
                      {std::to_string(id), Us(at)}, context));
    return core::OkStatus();
  });
}

Result<AlertRecord> PostgresStore::GetAlert(std::int64_t id) {
  auto lease = TALLY_TRY(Acquire("alerts: read"));
  return ReadAlertById(lease.get(), id, "alerts: read");
}

Result<std::vector<AlertRecord>> PostgresStore::ListAlerts(const AlertFilter& filter) {
  if (!filter.state.empty() && filter.state != "firing" && filter.state != "resolved") {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("state '{}' is not one of firing, resolved", filter.state)));
  }
  auto res = TALLY_TRY(ReadOne(
      "alerts: list",
      fmt::format("SELECT {} FROM alerts WHERE ($1 = '' OR state = $1) AND ($2 = '' OR rule = $2) "
                  "ORDER BY id DESC LIMIT $3",
                  kColumns),
      {filter.state, filter.rule, std::to_string(filter.limit > 0 ? filter.limit : 100)}));
  std::vector<AlertRecord> out;
  for (int i = 0; i < PQntuples(res.get()); ++i) out.push_back(ReadAlert(res.get(), i));
  return out;
}

namespace {
Status Audit(PGconn* conn, core::Timestamp at, const std::string& actor, std::string_view action,
             std::int64_t id, const std::string& reason, std::string_view context) {
  TALLY_TRY(pg::Run(conn,
                    "INSERT INTO audit_log (time, actor, action, target, reason) "
                    "VALUES (tally_ts($1::bigint), $2, $3, $4, $5)",
                    {Us(at), actor, std::string(action), fmt::format("alert:{}", id), reason},
                    context));
  return core::OkStatus();
}
}  // namespace

Status PostgresStore::AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) {
  std::string context = fmt::format("acknowledge alert {}", id);
  auto lease = TALLY_TRY(Acquire(context));
  PGconn* conn = lease.get();
  return InTransaction(conn, context, Writer::kNone, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadAlertById(conn, id, context));
    TALLY_TRY(pg::Run(conn,
                      "UPDATE alerts SET acked_at = tally_ts($2::bigint), acked_by = $3 "
                      "WHERE id = $1",
                      {std::to_string(id), Us(at), actor}, context));
    return Audit(conn, at, actor, "alert_ack", id, "", context);
  });
}

Status PostgresStore::SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                                   core::Timestamp at) {
  std::string context = fmt::format("silence alert {}", id);
  auto lease = TALLY_TRY(Acquire(context));
  PGconn* conn = lease.get();
  return InTransaction(conn, context, Writer::kNone, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadAlertById(conn, id, context));
    TALLY_TRY(pg::Run(conn, "UPDATE alerts SET silenced_until = tally_ts($2::bigint) WHERE id = $1",
                      {std::to_string(id), Us(until)}, context));
    return Audit(conn, at, actor, "alert_silence", id, "until " + core::FormatRfc3339(until),
                 context);
  });
}

}  // namespace tally::store
