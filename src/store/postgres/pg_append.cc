// PostgresStore::Append: the hot path. All batches go into ONE transaction,
// under the cluster-wide write lock: per event kind, one query asks
// <table>_ids which of the call's event_ids are stored already; C++ keeps the
// first occurrence of each new id (everything else of the call is a
// duplicate) and COPYs only those rows into the session-temporary
// acc_<table>; their ids are claimed in <table>_ids and the rows inserted
// into the raw table; the rollup statements then fold acc_<table> into the
// rollups before COMMIT. The caller is answered only after COMMIT returned.
#include <fmt/format.h>

#include <array>
#include <string_view>
#include <unordered_set>

#include "store/postgres/pg_kinds.h"
#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

// Per kind, under the cluster-wide write lock (so no other tally writer can
// claim an id between the check and the insert, and plain inserts suffice:
// ON CONFLICT's speculative insertion measured ~2x slower per row): the new
// rows' ids are claimed (COPY into <table>_ids), then the rows (already in
// acc_<table>) go into the raw table.
// A writer outside tally racing on <table>_ids would make the claim fail
// (unique violation) and the whole append roll back, never store twice.
struct DedupSql {
  std::string claim, insert;
};
const DedupSql& DedupInsertSql(const pg::KindSpec& k) {
  static const std::array<DedupSql, model::kEventKindCount> sql = [] {
    std::array<DedupSql, model::kEventKindCount> out;
    for (const pg::KindSpec& s : pg::Kinds()) {
      out[static_cast<int>(s.kind)] = DedupSql{
          fmt::format("COPY {0}_ids (event_id) FROM STDIN", s.table),
          fmt::format("INSERT INTO {0} ({1}) SELECT {2} FROM acc_{0} k", s.table,
                      s.insert_columns, s.insert_select)};
    }
    return out;
  }();
  return sql[static_cast<int>(k.kind)];
}

}  // namespace

Status PostgresStore::EnsureStaging(PooledConn& c) {
  c.dirty = 0;  // called before each write transaction: staging starts empty
  if (c.staged) return core::OkStatus();
  std::string sql;
  for (const pg::KindSpec& k : pg::Kinds()) {
    sql += fmt::format(
        "CREATE TEMP TABLE IF NOT EXISTS acc_{0} (seq INTEGER NOT NULL, {1}, "
        "event_id TEXT COLLATE \"C\" NOT NULL) ON COMMIT DELETE ROWS;",
        k.table, k.stage_columns);
  }
  sql += "CREATE TEMP TABLE IF NOT EXISTS task_touched (task_id TEXT COLLATE \"C\" PRIMARY KEY) "
         "ON COMMIT DELETE ROWS;"
         "CREATE TEMP TABLE IF NOT EXISTS task_old (LIKE task_rollup) ON COMMIT DELETE ROWS;";
  // Its own transaction: temp tables created inside a failed append would
  // vanish with its rollback.
  TALLY_RETURN_IF_ERROR(pg::Exec(c.conn.get(), sql, "append: create staging tables"));
  c.staged = true;
  return core::OkStatus();
}

Result<std::vector<AppendStats>> PostgresStore::Append(
    std::span<const model::Batch* const> batches) {
  std::vector<AppendStats> stats(batches.size());
  bool any = false;
  for (const model::Batch* b : batches) any = any || !b->events.empty();
  if (!any) return stats;
  std::lock_guard lock(write_mu_);
  auto lease = TALLY_TRY(Acquire("append"));
  TALLY_RETURN_IF_ERROR(EnsureStaging(lease.pooled()));
  Status status = InTransaction(lease.get(), "append", /*write_lock=*/true, [&]() -> Status {
    return AppendInTransaction(lease.pooled(), batches, &stats);
  });
  if (!status) return std::unexpected(std::move(status).error());
  return stats;
}

Status PostgresStore::AppendInTransaction(PooledConn& c,
                                          std::span<const model::Batch* const> batches,
                                          std::vector<AppendStats>* stats_out) {
  PGconn* conn = c.conn.get();
  std::vector<AppendStats>& stats = *stats_out;
  stats.assign(batches.size(), AppendStats{});
  // seq = position in the call; where[seq] = (batch, index in batch).
  std::vector<std::pair<int, int>> where;
  std::array<std::vector<int>, model::kEventKindCount> seqs;  // per kind, in call order
  for (size_t b = 0; b < batches.size(); ++b) {
    for (size_t i = 0; i < batches[b]->events.size(); ++i) {
      seqs[static_cast<int>(model::KindOf(batches[b]->events[i]))].push_back(
          static_cast<int>(where.size()));
      where.emplace_back(static_cast<int>(b), static_cast<int>(i));
    }
  }
  if (where.empty()) return core::OkStatus();
  auto event_at = [&](int seq) -> const model::Event& {
    return batches[static_cast<size_t>(where[static_cast<size_t>(seq)].first)]
        ->events[static_cast<size_t>(where[static_cast<size_t>(seq)].second)];
  };

  // The acc tables are ON COMMIT DELETE ROWS (emptied in place at each
  // commit, far cheaper than TRUNCATE's new files); only a second append in
  // the same transaction (parked replays) clears what the first left.
  if (c.dirty != 0) {
    std::string clear;
    for (const pg::KindSpec& k : pg::Kinds()) {
      if (c.dirty & (1u << static_cast<int>(k.kind))) {
        clear += fmt::format("DELETE FROM acc_{0};", k.table);
      }
    }
    TALLY_RETURN_IF_ERROR(pg::Exec(conn, clear, "append: clear staging"));
    c.dirty = 0;
  }
  // The task rollups read both acc tables: both are always part of the set.
  c.dirty |= (1u << static_cast<int>(model::EventKind::kLlmCall)) |
             (1u << static_cast<int>(model::EventKind::kTask));
  std::vector<char> accepted(where.size(), 0);
  std::array<bool, model::kEventKindCount> stored{};
  for (const pg::KindSpec& k : pg::Kinds()) {
    const int kind = static_cast<int>(k.kind);
    if (seqs[kind].empty()) continue;
    c.dirty |= 1u << kind;
    const std::string context = fmt::format("{}: insert", k.table);
    // Which ids are stored already: one round trip of index probes (under
    // the write lock nobody else can claim one before our insert), then the
    // first occurrence of each new id in this call is kept, in C++: only new
    // rows are COPYed, straight into acc_<table>.
    std::string ids = "{";
    for (int seq : seqs[kind]) {
      if (ids.size() > 1) ids.push_back(',');
      ids.push_back('"');
      for (char ch : model::EventIdOf(event_at(seq))) {
        if (ch == '"' || ch == '\\') ids.push_back('\\');
        ids.push_back(ch);
      }
      ids.push_back('"');
    }
    ids.push_back('}');
    auto existing = TALLY_TRY(pg::Run(
        conn,
        fmt::format("SELECT event_id FROM {}_ids WHERE event_id = ANY ($1::text[] COLLATE \"C\")",
                    k.table),
        {std::move(ids)}, context));
    std::unordered_set<std::string_view> seen;
    seen.reserve(seqs[kind].size() + static_cast<size_t>(PQntuples(existing.get())));
    for (int r = 0; r < PQntuples(existing.get()); ++r) {
      seen.emplace(PQgetvalue(existing.get(), r, 0),
                   static_cast<size_t>(PQgetlength(existing.get(), r, 0)));
    }
    std::string copy, claim;  // the new rows (staging form) and their ids
    int n = 0;
    for (int seq : seqs[kind]) {
      const model::Event& e = event_at(seq);
      if (!seen.emplace(model::EventIdOf(e)).second) continue;
      accepted[static_cast<size_t>(seq)] = 1;
      k.write(e, seq, &copy);
      copy.push_back('\n');
      pg::AppendCopyText(&claim, model::EventIdOf(e));
      claim.push_back('\n');
      ++n;
    }
    stored[kind] = n > 0;
    if (n == 0) continue;
    TALLY_RETURN_IF_ERROR(
        pg::CopyIn(conn, fmt::format("COPY acc_{} FROM STDIN", k.table), copy, context));
    const DedupSql& sql = DedupInsertSql(k);
    TALLY_RETURN_IF_ERROR(pg::CopyIn(conn, sql.claim, claim, context));
    TALLY_RETURN_IF_ERROR(pg::Exec(conn, sql.insert, context));
  }
  for (size_t seq = 0; seq < where.size(); ++seq) {
    AppendStats& s = stats[static_cast<size_t>(where[seq].first)];
    if (accepted[seq]) {
      ++s.accepted;
    } else {
      ++s.duplicates;
      s.duplicate_indexes.push_back(where[seq].second);
    }
  }
  // Rollups commit with the raw rows they summarize (same transaction), from
  // the rows actually stored: a duplicate changes nothing.
  for (const pg::KindSpec& k : pg::Kinds()) {
    if (!stored[static_cast<int>(k.kind)]) continue;
    for (std::string_view sql : k.rollup_sql) {
      TALLY_RETURN_IF_ERROR(pg::Exec(conn, sql, fmt::format("{}: rollups", k.table)));
    }
  }
  // Task rollups only when a stored call belongs to a task or a task event
  // was stored (most LLM traffic of a bulk load has no task: skip six
  // statements).
  bool task_touched = stored[static_cast<int>(model::EventKind::kTask)];
  for (size_t seq = 0; seq < where.size() && !task_touched; ++seq) {
    if (!accepted[seq]) continue;
    const model::Event& e = batches[static_cast<size_t>(where[seq].first)]
                                ->events[static_cast<size_t>(where[seq].second)];
    if (const auto* c = std::get_if<model::LlmCall>(&e)) task_touched = c->task_id.has_value();
  }
  if (task_touched) {
    for (std::string_view sql : pg::TaskRollupSql()) {
      TALLY_RETURN_IF_ERROR(pg::Exec(conn, sql, "task_rollup: update"));
    }
  }
  return core::OkStatus();
}

}  // namespace tally::store
