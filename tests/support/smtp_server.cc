#include "support/smtp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/free_port.h"

namespace tally::testing {
namespace {

namespace fs = std::filesystem;

// True when the server greets with "220".
bool Greets(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{0, 500'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    char buf[8] = {};
    ok = read(fd, buf, 3) == 3 && std::strncmp(buf, "220", 3) == 0;
    (void)!write(fd, "QUIT\r\n", 6);
  }
  close(fd);
  return ok;
}

std::string FindSmtpd() {
  for (const char* p : {"/usr/sbin/smtpd", "/usr/local/sbin/smtpd"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return {};
}

}  // namespace

SmtpServer::~SmtpServer() { Stop(); }

void SmtpServer::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {  // smtpd stops its children, then exits
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

std::string SmtpServer::WhyNotHere() {
  if (FindSmtpd().empty()) return "smtpd not installed (apt-get install opensmtpd)";
  if (geteuid() != 0) return "OpenSMTPD must be started as root";
  return "";
}

core::Status SmtpServer::Start() {
  std::string smtpd = FindSmtpd();
  if (smtpd.empty()) {
    return std::unexpected(core::Error::Unavailable("smtpd not installed (apt-get install opensmtpd)"));
  }
  if (geteuid() != 0) return std::unexpected(core::Error::Unavailable("OpenSMTPD must be started as root"));
  passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) return std::unexpected(core::Error::Unavailable("no user 'nobody' to deliver as"));
  port_ = FreePort();
  if (port_ == 0) return std::unexpected(core::Error::Unavailable("no free loopback port"));
  // The delivery agent runs as nobody: it must reach and write the maildir.
  fs::path root = dir_.str();
  fs::path maildir = root / "maildir";
  fs::create_directories(maildir);
  chmod(root.c_str(), 0755);
  for (fs::path p = root.parent_path(); p != p.root_path(); p = p.parent_path()) {
    struct stat st{};
    if (stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) chmod(p.c_str(), st.st_mode | S_IXOTH);
  }
  if (chown(maildir.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
    return std::unexpected(core::Error::Unavailable("cannot chown the maildir to nobody"));
  }
  fs::path conf = root / "smtpd.conf";
  {
    std::ofstream out(conf);
    out << "table recipients { \"@\" = \"nobody\" }\n"
        << "listen on 127.0.0.1 port " << port_ << "\n"
        << "action \"deliver\" maildir \"" << maildir.string() << "\" user nobody virtual <recipients>\n"
        << "match from any for any action \"deliver\"\n";
  }
  chmod(conf.c_str(), 0600);
  fs::path log = root / "smtpd.log";
  pid_ = fork();
  if (pid_ < 0) return std::unexpected(core::Error::Internal("fork failed"));
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(smtpd.c_str(), "smtpd", "-d", "-f", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Waiting for a child process to come up: bounded, and checks it lives.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Greets(port_)) return core::OkStatus();
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      return std::unexpected(core::Error::Unavailable("smtpd exited at start: " + ss.str()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return std::unexpected(core::Error::Unavailable("smtpd did not greet within 10 s"));
}

std::vector<std::string> SmtpServer::WaitForMessages(std::size_t n, std::chrono::milliseconds timeout) {
  fs::path dir = fs::path(dir_.str()) / "maildir" / "new";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> out;
  while (true) {
    std::vector<fs::directory_entry> files;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir, ec)) files.push_back(e);
    if (files.size() >= n || std::chrono::steady_clock::now() >= deadline) {
      // Maildir names start with the delivery time in seconds, then a unique part.
      std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return a.last_write_time() < b.last_write_time();
      });
      for (auto& f : files) {
        std::ifstream in(f.path());
        std::stringstream ss;
        ss << in.rdbuf();
        out.push_back(ss.str());
      }
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace tally::testing
