// RedisServer: a real `redis-server` for tests, on a free loopback port, in
// a temp dir, without persistence (--save '' --appendonly no). Start waits
// (bounded, 10 s) until PING answers; the destructor kills it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/result.h"
#include "support/temp_dir.h"

namespace tally::testing {

class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer();  // SIGKILLs and reaps the server
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // unavailable when redis-server is missing or never answers PING.
  core::Status Start();
  void Stop();  // SIGKILL: a crash, not a shutdown
  // Starts again on the same port after Stop (fault tests: a Redis that
  // comes back empty, as one without persistence does after a crash).
  core::Status Restart();
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

  // A process-wide server started on first use (for TEST_P factories);
  // aborts the test binary if it cannot start.
  static RedisServer& Shared();

 private:
  // Runs redis-server on port and waits for PING; false if it exited.
  core::Result<bool> Launch(std::uint16_t port);

  TempDir dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tally::testing
