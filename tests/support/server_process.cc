#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tally::testing {

core::Result<std::string> RunCommand(const std::string& binary, const std::vector<std::string>& args) {
  std::string cmd = binary;
  for (const auto& a : args) cmd += " '" + a + "'";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::unexpected(core::Error::Internal("popen failed: " + cmd));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int rc = pclose(pipe);
  if (rc != 0) return std::unexpected(core::Error::Internal("command failed (" + std::to_string(rc) + "): " + cmd));
  return out;
}

core::Result<std::string> CreateKey(const std::string& binary, const std::string& data_dir,
                                    const std::string& scopes) {
  auto out = RunCommand(binary, {"keys", "create", "--scope", scopes, "--data", data_dir});
  if (!out) return out;
  return out->substr(0, out->find('\n'));  // the secret is the only line on stdout
}

ServerProcess::ServerProcess(std::string binary, std::string data_dir, std::vector<std::string> extra_args)
    : binary_(std::move(binary)), data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill(SIGKILL);
}

core::Status ServerProcess::Start() {
  std::string port_file = data_dir_ + ".port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {binary_, "serve", "--data", data_dir_, "--listen", "127.0.0.1:0",
                                   "--port-file", port_file};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = fork();
  if (pid_ < 0) return std::unexpected(core::Error::Internal("fork failed"));
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  // Waiting for a child process to come up is the one place a poll is
  // unavoidable; it is bounded and checks the child is still alive.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      return core::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return std::unexpected(core::Error::Internal("tally serve exited early"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unexpected(core::Error::Unavailable("tally serve did not start within 30 s"));
}

void ServerProcess::Kill(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace tally::testing
