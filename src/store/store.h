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
// Thread-safety: all methods may be called from any thread concurrently;
// Append calls are serialized internally (the pipeline calls it from one
// writer thread anyway).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/entities.h"
#include "model/event.h"

namespace tally::store {

using core::Result;
using core::Status;

struct AppendStats {
  std::int64_t accepted = 0;    // newly stored events
  std::int64_t duplicates = 0;  // already stored (or repeated within the call)
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
};

}  // namespace tally::store
