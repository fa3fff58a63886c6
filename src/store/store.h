// Store: the system of record. Raw events (append-only, immutable), the
// entities of seed §3.1, API keys, and read-only SQL.
//
// Contract (every backend; tests/unit/store/store_contract_test.cc):
//  - Append commits all given batches in ONE transaction and returns only
//    after the commit is durable. On any error nothing of any batch is stored.
//  - An event whose event_id already exists in its table (or earlier in the
//    same call) is a duplicate: counted, not stored again.
//  - Reads never block the writer for long (SQLite WAL readers; PostgreSQL
//    MVCC) and see only committed data.
//  - Query runs one read-only statement; writes are refused.
// Thread-safety: all methods may be called from any thread concurrently.
// Append calls are serialized internally except where the backend says
// overlapping them pays (ConcurrentAppends); the ingest pipeline runs that
// many at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/entities.h"
#include "model/event.h"
#include "store/alerts.h"
#include "store/parked.h"
#include "store/rollups.h"

namespace tally::store {

using core::Result;
using core::Status;

struct AppendStats {
  std::int64_t accepted = 0;    // newly stored events
  std::int64_t duplicates = 0;  // already stored (or repeated within the call)
  // Positions in the batch of the duplicates, ascending, so consumers after
  // the commit (live counters) skip exactly the events that were not stored.
  std::vector<std::int64_t> duplicate_indexes;
  // Events stored with another amount than the batch's (a running total,
  // model::CumulativeAmount, stores only its increase), by position in the
  // batch, ascending; consumers after the commit read these instead.
  std::vector<std::pair<std::int64_t, model::Event>> adjusted;
};

// Live-counter rebuild reads (src/live): sums over fixed time buckets, so a
// rebuild transfers a bounded number of rows however many events there are.
// bucket_start is a multiple of the bucket width since the epoch (UTC).
struct LlmSpendBucket {
  std::string agent_id;
  core::Timestamp bucket_start;
  std::int64_t cost_micros = 0;  // sum of cost_usd, micro-USD
  std::int64_t calls = 0;
  std::int64_t errors = 0;  // calls with status other than success
};
struct RevenueBucket {
  std::string product_id;
  core::Timestamp bucket_start;
  std::int64_t amount_micros = 0;  // net: refunds are negative; rows without amount skipped
};

// invalid_argument unless the live-rebuild bucket width is positive (both
// backends' LlmSpendSince / RevenueSince).
Status CheckLiveBucket(std::chrono::seconds bucket);

// A kill-switch change (pause or resume), also written to the audit log.
// target is "factory" or an agent id.
inline constexpr const char* kFactoryTarget = "factory";
struct KillSwitchChange {
  std::string target;
  bool paused = false;
  std::string reason;
  std::string actor;  // who: an API key id, "cli", "tally:runaway"
  core::Timestamp at;
};

// Scopes are a bit set: an admin key may do everything.
enum Scope : unsigned { kScopeIngest = 1, kScopeRead = 2, kScopeAdmin = 4 };
std::string ScopesToString(unsigned scopes);             // "ingest,read"
core::Result<unsigned> ParseScopes(std::string_view s);  // "ingest,read" -> bits

struct ApiKeyRecord {
  std::string id;           // public identifier, e.g. "key_3f2a9c1e"
  std::string name;         // operator's label
  std::string secret_hash;  // hex SHA-256 of the whole key; the key itself is never stored
  unsigned scopes = 0;
  core::Timestamp created_at;
  std::optional<core::Timestamp> revoked_at;
};

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates or upgrades the schema to the latest version. Idempotent.
  virtual Status Migrate() = 0;

  // See the contract above. Returns one AppendStats per batch, in order.
  virtual Result<std::vector<AppendStats>> Append(std::span<const model::Batch* const> batches) = 0;
  // How many Append calls may usefully run at once, each on its own thread.
  // 1: they run one after the other anyway (one writer). More: their work
  // overlaps in the database, the contract above still holding for each.
  virtual int ConcurrentAppends() const { return 1; }

  // Number of stored events of a kind (for status pages and tests).
  virtual Result<std::int64_t> CountEvents(model::EventKind kind) = 0;
  // Whether an event with this id is stored in its table.
  virtual Result<bool> HasEvent(model::EventKind kind, const std::string& event_id) = 0;

  // Entities: Put* creates or replaces by id; Get* gives not_found for an
  // unknown id; List* orders by id.
  virtual Status PutProduct(const model::Product& p) = 0;
  virtual Result<model::Product> GetProduct(const std::string& id) = 0;
  virtual Result<std::vector<model::Product>> ListProducts() = 0;
  virtual Status PutAgent(const model::Agent& a) = 0;
  virtual Result<model::Agent> GetAgent(const std::string& id) = 0;
  virtual Result<std::vector<model::Agent>> ListAgents() = 0;
  virtual Status PutChannel(const model::RevenueChannel& c) = 0;
  virtual Result<model::RevenueChannel> GetChannel(const std::string& id) = 0;
  virtual Result<std::vector<model::RevenueChannel>> ListChannels() = 0;

  // API keys. Create fails with conflict on a duplicate id.
  virtual Status CreateApiKey(const ApiKeyRecord& key) = 0;
  // not_found when no key has this hash or it was revoked.
  virtual Result<ApiKeyRecord> FindApiKeyByHash(const std::string& secret_hash) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  virtual Status RevokeApiKey(const std::string& id, core::Timestamp when) = 0;

  // One read-only SQL statement; invalid_argument for a write or bad SQL.
  // At most max_rows rows are returned.
  virtual Result<QueryResult> Query(const std::string& sql, std::int64_t max_rows = 10'000) = 0;

  // Live counters (src/live). LLM spend per agent and revenue per product
  // with time >= since, summed per bucket of `bucket` width; ordered by id,
  // then bucket.
  virtual Result<std::vector<LlmSpendBucket>> LlmSpendSince(core::Timestamp since,
                                                            std::chrono::seconds bucket) = 0;
  virtual Result<std::vector<RevenueBucket>> RevenueSince(core::Timestamp since,
                                                          std::chrono::seconds bucket) = 0;
  // Kill switches: persists the state (agents.status for an agent, the
  // factory row otherwise) and an audit_log row in one transaction.
  // not_found for an unknown agent.
  virtual Status SetKillSwitch(const KillSwitchChange& change) = 0;
  // The factory switch's last change; nullopt when never set.
  virtual Result<std::optional<KillSwitchChange>> GetFactoryKillSwitch() = 0;

  // Product mappings and parked webhooks (store/parked.h).
  // Every mapping of a provider, ordered by external_id.
  virtual Result<std::vector<ProductMapping>> ListMappings(const std::string& provider) = 0;
  // Parks `parked` unless, under the write lock, `resolve` now maps it (a
  // mapping was added since the caller looked): then its events are stored
  // instead. Idempotent on (provider, provider_event_id). One transaction.
  virtual Result<ParkOutcome> ParkEvent(const ParkedEvent& parked, const ParkedResolver& resolve) = 0;
  // Parked events, oldest first; replayed ones too when include_replayed.
  virtual Result<std::vector<ParkedEvent>> ListParked(bool include_replayed) = 0;
  // Creates or replaces the mapping (provider, external_id) and replays every
  // parked event of that provider through `resolve`, in ONE transaction: the
  // mapping, the released events and the replayed marks commit together.
  // conflict when product_id or channel_id does not exist.
  virtual Result<ReplayStats> PutMappingAndReplay(const ProductMapping& mapping,
                                                  const ParkedResolver& resolve) = 0;
  // Replays every parked event of every provider (after a config change,
  // e.g. a new exchange rate). One transaction; `now` marks replayed rows.
  virtual Result<ReplayStats> ReplayParked(const ParkedResolver& resolve, core::Timestamp now) = 0;

  // Rollups (store/rollups.h). Every row with bucket in [from, to) of the
  // rollups named in `kinds` (RollupKind bits); the others stay empty.
  virtual Result<RollupSet> ReadRollups(core::Timestamp from, core::Timestamp to,
                                        unsigned kinds) = 0;
  // Recomputes every rollup from the raw events in one transaction (`tally
  // rollups rebuild`); readers see the old rollups until it commits.
  virtual Status RebuildRollups() = 0;
  // The business time zone (IANA name; "UTC" until set) whose local hours
  // and days cut the rollups' buckets. Kept with the data, so every node and
  // every reader agrees on what "a day" is; read from the database each call.
  virtual Result<std::string> RollupTimeZone() = 0;
  // Sets the zone and rebuilds every rollup in it, in one transaction
  // (readers see the old buckets until it commits); a no-op when unchanged.
  // invalid_argument naming the zone when the tz database does not know it.
  virtual Status SetRollupTimeZone(const std::string& time_zone) = 0;
  // subscription_start / subscription_cancel events with time < to, ordered
  // by time then event_id (MRR and churn follow subscriptions per customer).
  virtual Result<std::vector<SubscriptionEventRow>> ListSubscriptionEvents(core::Timestamp to) = 0;
  // Per product (products with any revenue, task or infra row; "" shared
  // rows left out), the sums of its rollup rows with bucket < to, ordered by
  // product_id. Equal to summing ReadRollups(epoch, to) rows by product.
  virtual Result<std::vector<ProductLifetime>> ProductLifetimes(core::Timestamp to) = 0;

  // Alerts (store/alerts.h). FireAlert creates a firing alert for
  // (rule, subject), or, when one is already firing, refreshes its severity,
  // message, details and last_seen_at (created = false); atomic, so two
  // callers never create two. A new alert inherits a silence still in effect
  // from an earlier alert of the same (rule, subject).
  virtual Result<AlertFireOutcome> FireAlert(const AlertRecord& alert) = 0;
  // Marks the firing alert `id` resolved at `at`; not_found for an unknown id,
  // a no-op for one already resolved.
  virtual Status ResolveAlert(std::int64_t id, core::Timestamp at) = 0;
  virtual Result<AlertRecord> GetAlert(std::int64_t id) = 0;
  virtual Result<std::vector<AlertRecord>> ListAlerts(const AlertFilter& filter) = 0;
  // Acknowledge (who, when) and silence until a time; not_found for an
  // unknown id. Both are audited in audit_log.
  virtual Status AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) = 0;
  virtual Status SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                              core::Timestamp at) = 0;
};

}  // namespace tally::store
