// ServerProcess: runs the real `tally` binary as a child process on a free
// loopback port, for integration tests and the load generator.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace tally::testing {

// Runs `binary args...` to completion and returns its stdout.
core::Result<std::string> RunCommand(const std::string& binary, const std::vector<std::string>& args);

// `tally keys create --scope SCOPES --data DATA_DIR`: the new key's secret.
core::Result<std::string> CreateKey(const std::string& binary, const std::string& data_dir,
                                    const std::string& scopes);

class ServerProcess {
 public:
  ServerProcess(std::string binary, std::string data_dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();  // SIGKILLs a server still running

  // Starts `tally serve` on 127.0.0.1 port 0 and waits (bounded, 30 s) until
  // it has written its port file.
  core::Status Start();
  void Kill(int signal);  // sends the signal and reaps the child
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  std::string binary_;
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tally::testing
