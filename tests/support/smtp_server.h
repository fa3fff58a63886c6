// SmtpServer: a real SMTP server for tests — Debian's OpenSMTPD (`smtpd`,
// scripts/install-deps.sh installs it) on a free loopback port, with a temp
// config that accepts mail for any recipient and delivers it to a maildir in
// the test's temp dir, which the test reads back.
//
// Limits of OpenSMTPD that shape this harness: it must start as root (it
// chroots and drops privileges; CI runs as root), it delivers as an
// unprivileged user (here `nobody`, so the temp dir is made traversable),
// and its control socket and queue are machine-wide, so only one instance
// runs at a time. Start() says unavailable (with the reason) when any of
// that is not met, and the test skips with it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "support/temp_dir.h"

namespace tally::testing {

class SmtpServer {
 public:
  SmtpServer() = default;
  ~SmtpServer();  // stops smtpd
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  core::Status Start();
  // Why OpenSMTPD cannot run on this machine at all (not installed, not
  // root), or "" when it can: then a failed Start() is a test failure, not
  // a skip (`make test` installs it and CI runs as root).
  static std::string WhyNotHere();
  void Stop();
  std::uint16_t port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // Waits (bounded) until the maildir holds at least n messages; returns
  // every delivered message's full text, oldest first.
  std::vector<std::string> WaitForMessages(std::size_t n,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tally::testing
