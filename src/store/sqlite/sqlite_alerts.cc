// SqliteStore: the alerts table (store/alerts.h). Fire, resolve, acknowledge
// and silence each run as one write transaction; the partial unique index
// alerts_one_firing makes "one firing alert per (rule, subject)" hold even
// against another process writing the same file.
#include <fmt/format.h>

#include "store/sqlite/sqlite_store.h"

namespace tally::store {
namespace {

using sqlite::Statement;

constexpr std::string_view kColumns =
    "id, rule, subject, severity, state, message, details, fired_at, last_seen_at, resolved_at, "
    "acked_at, acked_by, silenced_until";

AlertRecord ReadAlert(const Statement& s) {
  AlertRecord a;
  a.id = s.ColumnInt(0);
  a.rule = s.ColumnText(1);
  a.subject = s.ColumnText(2);
  a.severity = s.ColumnText(3);
  a.state = s.ColumnText(4);
  a.message = s.ColumnText(5);
  a.details = s.ColumnText(6);
  a.fired_at = core::FromMicros(s.ColumnInt(7));
  a.last_seen_at = core::FromMicros(s.ColumnInt(8));
  auto opt_time = [&](int i) -> std::optional<core::Timestamp> {
    if (auto v = s.ColumnOptInt(i)) return core::FromMicros(*v);
    return std::nullopt;
  };
  a.resolved_at = opt_time(9);
  a.acked_at = opt_time(10);
  a.acked_by = s.ColumnText(11);
  a.silenced_until = opt_time(12);
  return a;
}

Result<AlertRecord> ReadOne(sqlite3* db, std::string_view where, std::int64_t id,
                            std::string_view context) {
  auto stmt = TALLY_TRY(Statement::Prepare(
      db, fmt::format("SELECT {} FROM alerts WHERE {}", kColumns, where), context));
  stmt.BindInt(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) return ReadAlert(stmt);
  if (rc == SQLITE_DONE) {
    return std::unexpected(core::Error::NotFound(fmt::format("alert {} not found", id)));
  }
  return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
}

Status Audit(sqlite3* db, core::Timestamp at, const std::string& actor, std::string_view action,
             std::int64_t id, const std::string& reason, std::string_view context) {
  auto audit = TALLY_TRY(Statement::Prepare(
      db, "INSERT INTO audit_log (time, actor, action, target, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
      context));
  std::string target = fmt::format("alert:{}", id);
  audit.BindInt(1, core::ToMicros(at));
  audit.BindText(2, actor);
  audit.BindText(3, action);
  audit.BindText(4, target);
  audit.BindText(5, reason);
  return StepDone(audit, db, context);
}

}  // namespace

Result<AlertFireOutcome> SqliteStore::FireAlert(const AlertRecord& alert) {
  if (alert.rule.empty() || alert.subject.empty()) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "alert needs a rule and a subject, got rule '{}' subject '{}'", alert.rule, alert.subject)));
  }
  std::string context = fmt::format("alert {} on {}", alert.rule, alert.subject);
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  AlertFireOutcome out;
  TALLY_RETURN_IF_ERROR(InWriteTransaction(db, context, [&]() -> Status {
    auto find = TALLY_TRY(Statement::Prepare(
        db, "SELECT id FROM alerts WHERE rule = ?1 AND subject = ?2 AND state = 'firing'", context));
    find.BindText(1, alert.rule);
    find.BindText(2, alert.subject);
    int rc = find.Step();
    std::int64_t id = 0;
    if (rc == SQLITE_ROW) {
      id = find.ColumnInt(0);
      auto upd = TALLY_TRY(Statement::Prepare(
          db,
          "UPDATE alerts SET severity = ?2, message = ?3, details = ?4, last_seen_at = ?5 "
          "WHERE id = ?1",
          context));
      upd.BindInt(1, id);
      upd.BindText(2, alert.severity);
      upd.BindText(3, alert.message);
      upd.BindText(4, alert.details);
      upd.BindInt(5, core::ToMicros(alert.last_seen_at));
      TALLY_RETURN_IF_ERROR(StepDone(upd, db, context));
    } else if (rc == SQLITE_DONE) {
      out.created = true;
      // A silence set on an earlier episode still holds for this one.
      auto ins = TALLY_TRY(Statement::Prepare(
          db,
          "INSERT INTO alerts (rule, subject, severity, state, message, details, fired_at, "
          "last_seen_at, silenced_until) VALUES (?1, ?2, ?3, 'firing', ?4, ?5, ?6, ?7, "
          "(SELECT max(silenced_until) FROM alerts WHERE rule = ?1 AND subject = ?2 "
          " AND silenced_until > ?6))",
          context));
      ins.BindText(1, alert.rule);
      ins.BindText(2, alert.subject);
      ins.BindText(3, alert.severity);
      ins.BindText(4, alert.message);
      ins.BindText(5, alert.details.empty() ? std::string_view("{}") : std::string_view(alert.details));
      ins.BindInt(6, core::ToMicros(alert.fired_at));
      ins.BindInt(7, core::ToMicros(alert.last_seen_at));
      TALLY_RETURN_IF_ERROR(StepDone(ins, db, context));
      id = sqlite3_last_insert_rowid(db);
    } else {
      return std::unexpected(sqlite::ErrorFromSqlite(rc, db, context));
    }
    out.alert = TALLY_TRY(ReadOne(db, "id = ?1", id, context));
    return core::OkStatus();
  }));
  return out;
}

Status SqliteStore::ResolveAlert(std::int64_t id, core::Timestamp at) {
  std::string context = fmt::format("resolve alert {}", id);
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  return InWriteTransaction(db, context, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadOne(db, "id = ?1", id, context));
    auto upd = TALLY_TRY(Statement::Prepare(
        db, "UPDATE alerts SET state = 'resolved', resolved_at = ?2 WHERE id = ?1 AND state = 'firing'",
        context));
    upd.BindInt(1, id);
    upd.BindInt(2, core::ToMicros(at));
    return StepDone(upd, db, context);
  });
}

Result<AlertRecord> SqliteStore::GetAlert(std::int64_t id) {
  auto reader = TALLY_TRY(AcquireReader());
  return ReadOne(reader.get(), "id = ?1", id, "alerts: read");
}

Result<std::vector<AlertRecord>> SqliteStore::ListAlerts(const AlertFilter& filter) {
  if (!filter.state.empty() && filter.state != "firing" && filter.state != "resolved") {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("state '{}' is not one of firing, resolved", filter.state)));
  }
  auto reader = TALLY_TRY(AcquireReader());
  auto stmt = TALLY_TRY(Statement::Prepare(
      reader.get(),
      fmt::format("SELECT {} FROM alerts WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR rule = ?2) "
                  "ORDER BY id DESC LIMIT ?3",
                  kColumns),
      "alerts: list"));
  stmt.BindText(1, filter.state);
  stmt.BindText(2, filter.rule);
  stmt.BindInt(3, filter.limit > 0 ? filter.limit : 100);
  std::vector<AlertRecord> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) out.push_back(ReadAlert(stmt));
  if (rc != SQLITE_DONE) return std::unexpected(sqlite::ErrorFromSqlite(rc, reader.get(), "alerts: list"));
  return out;
}

Status SqliteStore::AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) {
  std::string context = fmt::format("acknowledge alert {}", id);
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  return InWriteTransaction(db, context, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadOne(db, "id = ?1", id, context));
    auto upd = TALLY_TRY(
        Statement::Prepare(db, "UPDATE alerts SET acked_at = ?2, acked_by = ?3 WHERE id = ?1", context));
    upd.BindInt(1, id);
    upd.BindInt(2, core::ToMicros(at));
    upd.BindText(3, actor);
    TALLY_RETURN_IF_ERROR(StepDone(upd, db, context));
    return Audit(db, at, actor, "alert_ack", id, "", context);
  });
}

Status SqliteStore::SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                                 core::Timestamp at) {
  std::string context = fmt::format("silence alert {}", id);
  std::lock_guard lock(write_mu_);
  sqlite3* db = TALLY_TRY(Writer(context));
  return InWriteTransaction(db, context, [&]() -> Status {
    TALLY_RETURN_IF_ERROR(ReadOne(db, "id = ?1", id, context));
    auto upd = TALLY_TRY(
        Statement::Prepare(db, "UPDATE alerts SET silenced_until = ?2 WHERE id = ?1", context));
    upd.BindInt(1, id);
    upd.BindInt(2, core::ToMicros(until));
    TALLY_RETURN_IF_ERROR(StepDone(upd, db, context));
    return Audit(db, at, actor, "alert_silence", id, "until " + core::FormatRfc3339(until), context);
  });
}

}  // namespace tally::store
