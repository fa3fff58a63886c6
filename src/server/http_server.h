// HttpServer: HTTP/1.1 with keep-alive on a Boost.Asio thread pool
// (Boost.Beast parsing), feeding requests to a Router.
//
// Guarantees: a body larger than max_body_bytes gets 413 before it is read
// (Content-Length) or as soon as it passes the limit (chunked), and the
// connection is closed; "Expect: 100-continue" is answered only for bodies
// within the limit; idle keep-alive connections close after idle_timeout.
// Responses may be produced on any thread: they are written on the
// connection's strand. A second pool runs blocking work (store calls) so the
// I/O threads never wait on the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "server/router.h"

namespace tally::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8787;  // 0: pick a free port (see Start's result)
  int io_threads = 2;
  int blocking_threads = 2;
  std::int64_t max_body_bytes = 32 * 1024 * 1024;
  std::chrono::seconds idle_timeout{60};
};

// "127.0.0.1:8787" or "[::1]:8787" into host and port.
core::Status ParseListen(const std::string& listen, HttpServerOptions* options);

class HttpServer {
 public:
  HttpServer(Router& router, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads; returns the bound port. unavailable when
  // the address is in use.
  core::Result<std::uint16_t> Start();
  // Runs fn on the blocking pool. Valid from construction until destruction.
  void RunBlocking(std::function<void()> fn);
  // Stops accepting and closes every connection; waits for the threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::server
