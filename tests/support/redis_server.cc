#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "support/free_port.h"

namespace tally::testing {
namespace {

// One PING over a plain socket; true on +PONG.
bool Ping(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char ping[] = "PING\r\n";
    char buf[16] = {};
    if (write(fd, ping, sizeof(ping) - 1) == static_cast<ssize_t>(sizeof(ping) - 1) &&
        read(fd, buf, sizeof(buf) - 1) > 0) {
      ok = std::strncmp(buf, "+PONG", 5) == 0;
    }
  }
  close(fd);
  return ok;
}

}  // namespace

RedisServer::~RedisServer() { Stop(); }

void RedisServer::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

core::Result<bool> RedisServer::Launch(std::uint16_t port) {
  port_ = port;
  std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", dir_.str(),
                                   "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"};
  pid_ = fork();
  if (pid_ < 0) return std::unexpected(core::Error::Internal("fork failed"));
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("redis-server", argv.data());
    _exit(127);
  }
  // Waiting for a child process to come up: bounded, and checks it lives.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Ping(port_)) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Stop();
  return std::unexpected(core::Error::Unavailable("redis-server did not answer PING within 10 s"));
}

core::Status RedisServer::Start() {
  for (int attempt = 0; attempt < 3; ++attempt) {  // the port may be taken between bind and exec
    std::uint16_t port = FreePort();
    if (port == 0) return std::unexpected(core::Error::Unavailable("no free loopback port"));
    auto up = Launch(port);
    if (!up) return std::unexpected(up.error());
    if (*up) return core::OkStatus();
  }
  return std::unexpected(core::Error::Unavailable("redis-server exited at start (is it installed?)"));
}

core::Status RedisServer::Restart() {
  Stop();
  // The old process's socket may linger briefly; a few tries on the same port.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto up = Launch(port_);
    if (!up) return std::unexpected(up.error());
    if (*up) return core::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::unexpected(core::Error::Unavailable(
      "redis-server did not restart on port " + std::to_string(port_)));
}

RedisServer& RedisServer::Shared() {
  static std::unique_ptr<RedisServer> server = [] {
    auto s = std::make_unique<RedisServer>();
    if (auto st = s->Start(); !st) {
      std::fprintf(stderr, "cannot start redis-server for the tests: %s\n", st.error().ToString().c_str());
      std::abort();
    }
    return s;
  }();
  return *server;
}

}  // namespace tally::testing
