// RedisConnection: a small pool of synchronous hiredis connections to one
// Redis server, from a URL like redis://[:password@]host[:port][/db].
//
// hiredis contexts are not thread-safe; each command borrows one context from
// the pool (up to pool_size are opened, lazily) and gives it back. A context
// that saw an I/O error is dropped with every idle one (a restarted server
// broke them all) and the next command reconnects.
// Every failure (connect, I/O, timeout, an error reply) is
// core::Error::Unavailable naming the Redis command.
// Thread-safety: every method may be called concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct redisContext;
struct redisReply;

namespace tally::live::redis {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;
};

// invalid_argument for anything but redis://host[:port][/db] (optionally
// with :password@ or user:password@ before the host).
core::Result<RedisUrl> ParseRedisUrl(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  struct Options {
    RedisUrl url;
    int pool_size = 8;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{2000};
  };

  // Opens one connection at once (so a bad URL or a down server fails here).
  static core::Result<std::unique_ptr<RedisConnection>> Connect(Options options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command (binary-safe arguments). An error reply is unavailable.
  core::Result<Reply> Command(const std::vector<std::string>& argv);

  // SCRIPT LOAD; returns the SHA1.
  core::Result<std::string> LoadScript(const std::string& script);
  // EVALSHA sha 0 args...; on NOSCRIPT (a flushed script cache, a restarted
  // server) falls back to EVAL with the script body, which caches it again.
  core::Result<Reply> EvalSha(const std::string& sha, const std::string& script,
                              const std::vector<std::string>& args);

 private:
  explicit RedisConnection(Options options) : options_(std::move(options)) {}
  core::Result<redisContext*> Open();
  core::Result<redisContext*> Borrow();
  void Return(redisContext* c, bool broken);
  core::Result<Reply> Run(redisContext* c, const std::vector<std::string>& argv, bool& broken);

  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;  // guarded by mu_
  int open_ = 0;                     // guarded by mu_: contexts open (idle or borrowed)
};

}  // namespace tally::live::redis
