// GrafanaClient: creates or updates tally's folder, datasource and
// dashboards through Grafana's HTTP API, and posts annotations (anomalies,
// pauses). libcurl; authenticated with a service-account token (Bearer).
//
// Idempotent: pushing twice changes nothing the second time (folder and
// datasource are looked up by uid first; dashboards are saved with
// overwrite=true under their stable uid).
// Thread-safety: one client per thread.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "dashboards/grafana_dashboards.h"

namespace tally::dashboards {

struct DatasourceSpec {
  std::string uid = "tally-pg";
  std::string name = "tally PostgreSQL";
  std::string host = "127.0.0.1:5432";  // host:port as Grafana reaches it
  std::string database = "tally";
  std::string user = "grafana";
  std::string password;  // sent once, stored by Grafana in secureJsonData
  std::string sslmode = "disable";
  bool timescaledb = false;
};

class GrafanaClient {
 public:
  GrafanaClient(std::string base_url, std::string token);

  core::Status EnsureFolder(const std::string& uid, const std::string& title);
  core::Status UpsertDatasource(const DatasourceSpec& spec);
  core::Status UpsertDashboard(const GeneratedDashboard& dashboard, const std::string& folder_uid);
  // An annotation on one dashboard (or every dashboard when empty) at `when`.
  core::Status Annotate(const std::string& dashboard_uid, core::Timestamp when, const std::string& text,
                        const std::vector<std::string>& tags);

 private:
  struct Reply {
    long status = 0;
    std::string body;
  };
  core::Result<Reply> Send(const std::string& method, const std::string& path, const std::string& body);
  core::Status Expect(const core::Result<Reply>& reply, const std::string& what);

  std::string base_url_;
  std::string token_;
};

// Folder, datasource, then every dashboard. Stops at the first failure.
core::Status PushAll(GrafanaClient& client, const std::vector<GeneratedDashboard>& dashboards,
                     const DatasourceSpec& datasource, const std::string& folder_uid = "tally",
                     const std::string& folder_title = "tally");

}  // namespace tally::dashboards
