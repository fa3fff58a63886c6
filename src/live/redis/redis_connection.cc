#include "live/redis/redis_connection.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>

namespace tally::live::redis {
namespace {

std::string CommandName(const std::vector<std::string>& argv) {
  if (argv.empty()) return "(empty)";
  std::string name = argv[0];
  for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return name;
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

void ReplyDeleter::operator()(redisReply* r) const {
  if (r != nullptr) freeReplyObject(r);
}

core::Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("redis url '{}': {}", url, why)));
  };
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return bad("must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = auth.find(':');
    out.password = std::string(colon == std::string_view::npos ? auth : auth.substr(colon + 1));
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!ParseInt(db, out.db) || out.db < 0)) return bad("database must be a number");
  }
  if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    if (!ParseInt(hostport.substr(colon + 1), out.port) || out.port <= 0 || out.port > 65535) {
      return bad("bad port");
    }
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) out.host = std::string(hostport);
  return out;
}

core::Result<std::unique_ptr<RedisConnection>> RedisConnection::Connect(Options options) {
  if (options.pool_size < 1) options.pool_size = 1;
  std::unique_ptr<RedisConnection> conn(new RedisConnection(std::move(options)));
  auto c = conn->Open();
  if (!c) return std::unexpected(c.error());
  std::lock_guard lock(conn->mu_);
  conn->idle_.push_back(*c);
  conn->open_ = 1;
  return conn;
}

RedisConnection::~RedisConnection() {
  for (redisContext* c : idle_) redisFree(c);
}

core::Result<redisContext*> RedisConnection::Open() {
  const RedisUrl& u = options_.url;
  redisContext* c = redisConnectWithTimeout(u.host.c_str(), u.port, ToTimeval(options_.connect_timeout));
  if (c == nullptr || c->err != 0) {
    std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return std::unexpected(core::Error::Unavailable(
        fmt::format("redis CONNECT {}:{}: {}", u.host, u.port, why)));
  }
  redisSetTimeout(c, ToTimeval(options_.command_timeout));
  bool broken = false;
  if (!u.password.empty()) {
    auto r = Run(c, {"AUTH", u.password}, broken);
    if (!r) {
      redisFree(c);
      return std::unexpected(r.error());
    }
  }
  if (u.db != 0) {
    auto r = Run(c, {"SELECT", std::to_string(u.db)}, broken);
    if (!r) {
      redisFree(c);
      return std::unexpected(r.error());
    }
  }
  return c;
}

core::Result<redisContext*> RedisConnection::Borrow() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    if (open_ < options_.pool_size) {
      ++open_;
      lock.unlock();
      auto c = Open();
      if (!c) {
        lock.lock();
        --open_;
        cv_.notify_one();
      }
      return c;
    }
    cv_.wait(lock);
  }
}

void RedisConnection::Return(redisContext* c, bool broken) {
  std::lock_guard lock(mu_);
  if (broken) {
    redisFree(c);
    --open_;
    // A server that went away broke every connection: close the idle ones
    // too, so the next command (a reconnection probe) opens a fresh one
    // instead of finding the next dead one.
    for (redisContext* idle : idle_) redisFree(idle);
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
  } else {
    idle_.push_back(c);
  }
  cv_.notify_one();
}

core::Result<Reply> RedisConnection::Run(redisContext* c, const std::vector<std::string>& argv, bool& broken) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
  if (!reply) {
    broken = true;
    return std::unexpected(core::Error::Unavailable(
        fmt::format("redis {}: {}", CommandName(argv), c->err != 0 ? c->errstr : "no reply")));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return std::unexpected(core::Error::Unavailable(
        fmt::format("redis {}: {}", CommandName(argv), std::string(reply->str, reply->len))));
  }
  return reply;
}

core::Result<Reply> RedisConnection::Command(const std::vector<std::string>& argv) {
  auto c = Borrow();
  if (!c) return std::unexpected(core::Error::Unavailable(
      fmt::format("redis {}: {}", CommandName(argv), c.error().message())));
  bool broken = false;
  auto r = Run(*c, argv, broken);
  Return(*c, broken);
  return r;
}

core::Result<std::string> RedisConnection::LoadScript(const std::string& script) {
  auto r = Command({"SCRIPT", "LOAD", script});
  if (!r) return std::unexpected(r.error());
  if ((*r)->type != REDIS_REPLY_STRING) {
    return std::unexpected(core::Error::Unavailable("redis SCRIPT: unexpected reply to SCRIPT LOAD"));
  }
  return std::string((*r)->str, (*r)->len);
}

core::Result<Reply> RedisConnection::EvalSha(const std::string& sha, const std::string& script,
                                             const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 3);
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back("0");
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Command(argv);
  if (r || r.error().message().find("NOSCRIPT") == std::string::npos) return r;
  argv[0] = "EVAL";
  argv[1] = script;
  return Command(argv);
}

}  // namespace tally::live::redis
