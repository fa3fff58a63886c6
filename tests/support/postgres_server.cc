#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "support/free_port.h"

namespace tally::testing {
namespace {

// TALLY_PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin.
std::string BinDir() {
  if (const char* d = std::getenv("TALLY_PG_BINDIR")) return d;
  namespace fs = std::filesystem;
  std::string best;
  int best_v = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int v = std::atoi(e.path().filename().c_str());
    if (v > best_v && fs::exists(e.path() / "bin" / "postgres")) {
      best_v = v;
      best = (e.path() / "bin").string();
    }
  }
  return best;
}

// Runs argv as the postgres user when we are root; returns the child pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log >= 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
  }
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr || setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
      _exit(126);
    }
  }
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

core::Status Sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::unique_ptr<PGconn, decltype(&PQfinish)> guard(conn, PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) {
    return std::unexpected(core::Error::Unavailable(PQerrorMessage(conn)));
  }
  PGresult* res = PQexec(conn, sql.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> rguard(res, PQclear);
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string(state) == "42P04") return core::OkStatus();  // exists
    return std::unexpected(core::Error::Internal(sql + ": " + PQerrorMessage(conn)));
  }
  return core::OkStatus();
}

}  // namespace

bool PostgresServer::Available() { return !BinDir().empty(); }

// Immediate: the data dir is removed next, so a clean checkpoint (seconds of
// fsync) would be wasted.
PostgresServer::~PostgresServer() { Stop(/*immediate=*/true); }

void PostgresServer::Stop(bool immediate) {
  if (pid_ <= 0) return;
  kill(pid_, immediate ? SIGQUIT : SIGINT);
  int status = 0;
  // Bounded: a fast shutdown takes well under a second; escalate after 20 s.
  for (int i = 0; i < 2000; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string PostgresServer::Url(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

core::Status PostgresServer::Start() {
  const std::string bin = BinDir();
  if (bin.empty()) {
    return std::unexpected(core::Error::Unavailable(
        "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql-15)"));
  }
  const std::string data = dir_.str() + "/data";
  const std::string log = dir_.str() + "/postgres.log";
  if (!initialized_) {
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      if (pw == nullptr) {
        return std::unexpected(core::Error::Unavailable("running as root but no 'postgres' user"));
      }
      if (chown(dir_.str().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return std::unexpected(core::Error::Unavailable("chown of the test dir failed"));
      }
    }
    pid_t init = Spawn({bin + "/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--no-locale", "--no-sync"},
                       log);
    int status = 0;
    waitpid(init, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return std::unexpected(
          core::Error::Unavailable("initdb failed (see " + log + ")"));
    }
    initialized_ = true;
    port_ = FreePort();
  }
  std::vector<std::string> args = {bin + "/postgres", "-D", data, "-p", std::to_string(port_),
                                   "-k", dir_.str(), "-c", "listen_addresses=127.0.0.1", "-c",
                                   "fsync=on", "-c", "max_connections=300", "-c",
                                   "shared_buffers=64MB", "-c", "log_min_messages=warning"};
  // TimescaleDB, where installed, must be preloaded for the store to use it.
  namespace fs = std::filesystem;
  const fs::path share = fs::path(bin).parent_path().parent_path().parent_path().parent_path() /
                         "share" / "postgresql" / fs::path(bin).parent_path().filename();
  std::error_code ec;
  if (fs::exists(share / "extension" / "timescaledb.control", ec)) {
    args.insert(args.end(), {"-c", "shared_preload_libraries=timescaledb"});
  }
  pid_ = Spawn(args, log);
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                               " user=postgres dbname=postgres connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return core::OkStatus();
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return std::unexpected(core::Error::Unavailable("postgres exited at start (see " + log + ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop(true);
  return std::unexpected(core::Error::Unavailable("postgres did not accept connections in 30 s"));
}

core::Status PostgresServer::CreateDatabase(const std::string& db, const std::string& template_db) {
  // CREATE DATABASE ... TEMPLATE needs the template without other sessions.
  std::lock_guard lock(create_mu_);
  std::string sql = "CREATE DATABASE \"" + db + "\"";
  if (!template_db.empty()) sql += " TEMPLATE \"" + template_db + "\"";
  return Sql(Url(), sql);
}

core::Result<std::string> PostgresServer::FreshDatabase() {
  std::string db = "t_" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  TALLY_RETURN_IF_ERROR(CreateDatabase(db));
  return Url(db);
}

PostgresServer& PostgresServer::Shared() {
  static std::unique_ptr<PostgresServer> server = [] {
    auto s = std::make_unique<PostgresServer>();
    if (auto st = s->Start(); !st) {
      std::fprintf(stderr, "cannot start postgres for the tests: %s\n",
                   st.error().ToString().c_str());
      std::abort();
    }
    return s;
  }();
  return *server;
}

core::Result<std::string> PostgresUrlForLocation(const std::string& location,
                                                 const MigrateFn& migrate) {
  PostgresServer& server = PostgresServer::Shared();
  // The template is migrated once per process (the store's own migration,
  // through `migrate`), then copied: CREATE DATABASE ... TEMPLATE is a file
  // copy, far faster than migrating every test's database.
  static std::once_flag once;
  static core::Status template_status = core::OkStatus();
  static const std::string kTemplate = "tally_tpl_" + std::to_string(getpid());
  std::call_once(once, [&] {
    template_status = server.CreateDatabase(kTemplate);
    if (template_status && migrate) template_status = migrate(server.Url(kTemplate));
  });
  TALLY_RETURN_IF_ERROR(template_status);
  std::string db = "t_" + std::to_string(std::hash<std::string>{}(location));
  TALLY_RETURN_IF_ERROR(server.CreateDatabase(db, kTemplate));
  return server.Url(db);
}

}  // namespace tally::testing
