// PostgresStore::Append: the hot path. All batches go into ONE transaction.
// Appends overlap (ConcurrentAppends, pg_locks.h): each holds the ingest
// lock shared while it claims ids and stores raw rows, and takes the write
// lock only for its rollups and COMMIT, so one append's COPY runs while the
// one before commits. Per event kind, C++ keeps the first occurrence of each
// id in the call, then claims those ids in <table>_ids, in byte order
// (binary COPY of event_id and time): optimistically, expecting them new, so
// a call of new events costs no lookup at all; when any was stored before,
// the claim's unique violation rolls the transaction back and the call is
// redone claiming through a temp table with ON CONFLICT DO NOTHING
// RETURNING, which names the new ones. Only new rows are stored: llm_calls
// by binary COPY straight into the raw table with their rollup contribution
// folded in C++ (pg_llm_ingest.h); the other kinds through the session-
// temporary acc_<table> and INSERT ... SELECT. The rollup statements then
// fold the new rows into the rollups before COMMIT. The caller is answered
// only after COMMIT returned. A call with running totals plans them from the
// stored rows before claiming anything, so it writes exclusively.
//
// Ids past their kind's id horizon (tally_id_horizons, moved forward by the
// maintenance when retention drops raw partitions, pg_maintenance.h) are no
// longer kept, so events older than the horizon cannot be told apart from
// re-sends: they are not stored and count as duplicates.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_set>

#include "store/cumulative.h"
#include "store/postgres/pg_copy_binary.h"
#include "store/postgres/pg_kinds.h"
#include "store/postgres/pg_llm_ingest.h"
#include "store/postgres/pg_locks.h"
#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

// Per kind: claiming ids (straight, or through claim_ids when some may be
// stored already) and moving staged rows into the raw table.
struct KindSql {
  std::string claim, careful_claim, insert;
};
const KindSql& SqlOf(const pg::KindSpec& k) {
  static const std::array<KindSql, model::kEventKindCount> sql = [] {
    std::array<KindSql, model::kEventKindCount> out;
    for (const pg::KindSpec& s : pg::Kinds()) {
      out[static_cast<int>(s.kind)] = KindSql{
          fmt::format("COPY {}_ids (event_id, time) FROM STDIN (FORMAT binary)", s.table),
          // ORDER BY: claims in byte order here too (pg_locks.h).
          fmt::format("INSERT INTO {}_ids (event_id, time) SELECT event_id, time FROM claim_ids "
                      "ORDER BY event_id ON CONFLICT DO NOTHING RETURNING event_id",
                      s.table),
          fmt::format("INSERT INTO {0} ({1}) SELECT {2} FROM acc_{0} k", s.table,
                      s.insert_columns, s.insert_select)};
    }
    return out;
  }();
  return sql[static_cast<int>(k.kind)];
}

// The sum of a running total's stored rows (store/cumulative.h) in micro-USD;
// one range of revenue_events_event_id on every partition.
Result<core::Money> StoredRunningTotal(PGconn* conn, const std::string& key) {
  RunningTotalBounds bounds = BoundsOf(key);
  auto res = TALLY_TRY(pg::Run(
      conn,
      "SELECT coalesce(round(sum(amount_usd) * 1000000), 0)::BIGINT FROM revenue_events "
      "WHERE event_id >= $1 AND event_id < $3 AND (event_id = $1 OR event_id >= $2)",
      {bounds.key, bounds.prefix, bounds.end}, fmt::format("revenue_events: running total of '{}'", key)));
  return core::Money::FromMicros(pg::Int(res.get(), 0, 0));
}

// Staging tables besides acc_<table>, tracked in PooledConn::dirty above the
// kind bits.
constexpr unsigned kDirtyClaim = 1u << 30;

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
  sql += fmt::format("CREATE TEMP TABLE IF NOT EXISTS acc_llm_fold ({}) ON COMMIT DELETE ROWS;",
                     pg::kLlmFoldColumns);
  sql += "CREATE TEMP TABLE IF NOT EXISTS claim_ids (event_id TEXT COLLATE \"C\" NOT NULL, "
         "time TIMESTAMPTZ NOT NULL) ON COMMIT DELETE ROWS;"
         "CREATE TEMP TABLE IF NOT EXISTS task_touched (task_id TEXT COLLATE \"C\" PRIMARY KEY) "
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
  const bool exclusive = std::any_of(batches.begin(), batches.end(),
                                     [](const model::Batch* b) { return HasRunningTotals(*b); });
  std::unique_lock<std::mutex> local(write_mu_, std::defer_lock);
  if (exclusive) local.lock();
  auto lease = TALLY_TRY(Acquire("append"));
  // First as if every id were new; when one was not, the claim's unique
  // violation rolled everything back and the call is redone carefully.
  bool collided = false;
  for (bool optimistic : {true, false}) {
    TALLY_RETURN_IF_ERROR(EnsureStaging(lease.pooled()));
    Status status = InTransaction(
        lease.get(), "append", exclusive ? Writer::kExclusive : Writer::kAppend, [&]() -> Status {
          return AppendInTransaction(lease.pooled(), batches, &stats, optimistic,
                                     optimistic ? &collided : nullptr,
                                     /*lock_rollups=*/!exclusive);
        });
    if (status) return stats;
    if (!optimistic || !collided) return std::unexpected(std::move(status).error());
  }
  return stats;  // not reached: the careful pass returns
}

Status PostgresStore::AppendInTransaction(PooledConn& c,
                                          std::span<const model::Batch* const> given,
                                          std::vector<AppendStats>* stats_out, bool optimistic,
                                          bool* collided, bool lock_rollups) {
  PGconn* conn = c.conn.get();
  // Running totals become their increase, read in this transaction (calls
  // holding any run as exclusive writers, pg_locks.h).
  CumulativePlan plan = TALLY_TRY(PlanCumulative(
      given, [conn](const std::string& key) { return StoredRunningTotal(conn, key); }));
  std::span<const model::Batch* const> batches = plan.batches();
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
  if (where.empty()) {
    FinishCumulative(plan, &stats);  // every running total may have been settled
    return core::OkStatus();
  }
  auto event_at = [&](int seq) -> const model::Event& {
    return batches[static_cast<size_t>(where[static_cast<size_t>(seq)].first)]
        ->events[static_cast<size_t>(where[static_cast<size_t>(seq)].second)];
  };

  // Id horizons, read under the ingest lock (the maintenance moves them as
  // an exclusive writer), so no append can slip an expired event past one.
  std::array<std::optional<std::int64_t>, model::kEventKindCount> horizon;
  {
    auto res = TALLY_TRY(pg::Run(conn, "SELECT table_name, tally_us(horizon) FROM tally_id_horizons",
                                 {}, "append: id horizons"));
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      for (const pg::KindSpec& k : pg::Kinds()) {
        if (pg::Text(res.get(), r, 0) == k.table) horizon[static_cast<int>(k.kind)] = pg::Int(res.get(), r, 1);
      }
    }
  }

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
    if (c.dirty & (1u << static_cast<int>(model::EventKind::kLlmCall))) {
      clear += "DELETE FROM acc_llm_fold;";
    }
    if (c.dirty & kDirtyClaim) clear += "DELETE FROM claim_ids;";
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
    const KindSql& sql = SqlOf(k);
    // The first occurrence of each id in the call, unless past the horizon.
    std::vector<int> fresh;
    fresh.reserve(seqs[kind].size());
    {
      std::unordered_set<std::string_view> in_call;
      in_call.reserve(seqs[kind].size());
      for (int seq : seqs[kind]) {
        const model::Event& e = event_at(seq);
        if (!in_call.emplace(model::EventIdOf(e)).second) continue;
        if (horizon[kind] && core::ToMicros(model::TimeOf(e)) < *horizon[kind]) continue;
        fresh.push_back(seq);
      }
    }
    if (fresh.empty()) continue;
    // Byte order (the index's "C" order): two appends waiting on each
    // other's claims would each have to claim a smaller id after a larger.
    std::sort(fresh.begin(), fresh.end(), [&](int a, int b) {
      return model::EventIdOf(event_at(a)) < model::EventIdOf(event_at(b));
    });
    pg::BinaryCopy ids;
    for (int seq : fresh) {
      const model::Event& e = event_at(seq);
      ids.Row(2);
      ids.Text(model::EventIdOf(e));
      ids.Timestamp(core::ToMicros(model::TimeOf(e)));
    }
    if (optimistic) {
      Status claimed = pg::CopyIn(conn, sql.claim, ids.Finish(), context);
      if (!claimed) {
        if (collided != nullptr && claimed.error().code() == core::ErrorCode::kConflict) {
          *collided = true;
        }
        return claimed;
      }
    } else {
      // Some ids may be stored already: the conflict-free insert names the
      // new ones (index probes, correct against writers outside tally too).
      if (c.dirty & kDirtyClaim) TALLY_RETURN_IF_ERROR(pg::Exec(conn, "DELETE FROM claim_ids", context));
      c.dirty |= kDirtyClaim;
      TALLY_RETURN_IF_ERROR(pg::CopyIn(
          conn, "COPY claim_ids (event_id, time) FROM STDIN (FORMAT binary)", ids.Finish(), context));
      auto res = TALLY_TRY(pg::Run(conn, sql.careful_claim, {}, context));
      std::unordered_set<std::string_view> claimed;
      claimed.reserve(static_cast<size_t>(PQntuples(res.get())));
      for (int r = 0; r < PQntuples(res.get()); ++r) {
        claimed.emplace(PQgetvalue(res.get(), r, 0), static_cast<size_t>(PQgetlength(res.get(), r, 0)));
      }
      std::erase_if(fresh, [&](int seq) { return !claimed.contains(model::EventIdOf(event_at(seq))); });
      if (fresh.empty()) continue;
    }
    for (int seq : fresh) accepted[static_cast<size_t>(seq)] = 1;
    stored[kind] = true;
    if (k.kind == model::EventKind::kLlmCall) {
      // Raw rows straight into llm_calls; the rollups read the fold; only
      // calls of a task are staged, for the task rollups.
      pg::BinaryCopy raw;
      pg::LlmFold fold;
      std::string task_calls;
      for (int seq : fresh) {
        const auto& e = std::get<model::LlmCall>(event_at(seq));
        TALLY_RETURN_IF_ERROR(pg::WriteLlmRaw(e, &raw));
        fold.Add(e);
        if (e.task_id) {
          k.write(event_at(seq), seq, &task_calls);
          task_calls.push_back('\n');
        }
      }
      TALLY_RETURN_IF_ERROR(pg::CopyIn(conn, pg::kLlmRawCopySql, raw.Finish(), context));
      TALLY_RETURN_IF_ERROR(
          pg::CopyIn(conn, "COPY acc_llm_fold FROM STDIN", fold.CopyText(), context));
      if (!task_calls.empty()) {
        TALLY_RETURN_IF_ERROR(
            pg::CopyIn(conn, "COPY acc_llm_calls FROM STDIN", task_calls, context));
      }
      continue;
    }
    std::string copy;  // the new rows, staging form
    for (int seq : fresh) {
      k.write(event_at(seq), seq, &copy);
      copy.push_back('\n');
    }
    TALLY_RETURN_IF_ERROR(
        pg::CopyIn(conn, fmt::format("COPY acc_{} FROM STDIN", k.table), copy, context));
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
  FinishCumulative(plan, &stats);
  if (lock_rollups && std::find(stored.begin(), stored.end(), true) != stored.end()) {
    TALLY_RETURN_IF_ERROR(pg::Exec(conn, fmt::format("SELECT pg_advisory_xact_lock({})", pg::kWriteLock),
                                   "append: write lock"));
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
