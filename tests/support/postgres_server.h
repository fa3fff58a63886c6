// PostgresServer: a real PostgreSQL (Debian's postgresql-15) for tests:
// initdb into a temp dir, postgres on a free loopback port with its unix
// socket in the same dir, fsync on (durability is what the tests check).
// Start waits (bounded, 30 s) until the server accepts connections; Stop()
// and Start() again reuse the same data dir and port (fault tests); the
// destructor stops it and the temp dir goes with everything in it.
//
// PostgreSQL refuses to run as root: when the tests run as root (CI), initdb
// and postgres run as the `postgres` system user, which owns the temp dir.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "core/result.h"
#include "support/temp_dir.h"

namespace tally::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb on first call, then starts the server. unavailable when the
  // binaries are missing or the server never accepts connections.
  core::Status Start();
  // Fast shutdown (SIGINT: clients are disconnected, data is flushed);
  // immediate = SIGQUIT (like a crash: recovery from WAL at next start).
  void Stop(bool immediate = false);
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }

  // URL of database `db` as the superuser.
  std::string Url(const std::string& db = "postgres") const;
  // CREATE DATABASE db (from template when given); ok if it already exists.
  core::Status CreateDatabase(const std::string& db, const std::string& template_db = "");
  // A fresh, empty database "t_<n>" and its URL.
  core::Result<std::string> FreshDatabase();

  // A process-wide server started on first use (for TEST_P factories);
  // aborts the test binary if it cannot start.
  static PostgresServer& Shared();
  // Whether a PostgreSQL server binary is installed here.
  static bool Available();

 private:
  TempDir dir_;
  bool initialized_ = false;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::mutex create_mu_;
  std::atomic<int> next_db_{0};
};

// The database of a store test "location" (a per-test temp folder path):
// the same location always maps to the same database, created on first use
// from a migrated template so each test starts from the latest schema fast.
// `migrate` brings a database at the given URL to the latest schema (the
// store's own Open does); it runs once, on the template.
using MigrateFn = std::function<core::Status(const std::string& url)>;
core::Result<std::string> PostgresUrlForLocation(const std::string& location,
                                                 const MigrateFn& migrate);

}  // namespace tally::testing
