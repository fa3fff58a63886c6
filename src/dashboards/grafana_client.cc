#include "dashboards/grafana_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tally::dashboards {
namespace {

namespace json = boost::json;

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

GrafanaClient::GrafanaClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  static const bool curl_ready = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)curl_ready;
}

core::Result<GrafanaClient::Reply> GrafanaClient::Send(const std::string& method, const std::string& path,
                                                        const std::string& body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::unexpected(core::Error::Internal("curl_easy_init failed"));
  std::string url = base_url_ + path;
  Reply reply;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return std::unexpected(core::Error::Unavailable(fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc))));
  }
  return reply;
}

core::Status GrafanaClient::Expect(const core::Result<Reply>& reply, const std::string& what) {
  if (!reply) return std::unexpected(reply.error());
  if (reply->status >= 200 && reply->status < 300) return core::OkStatus();
  std::string detail = reply->body.substr(0, 300);
  if (reply->status == 401 || reply->status == 403) {
    return std::unexpected(core::Error::PermissionDenied(
        fmt::format("Grafana refused {} ({}): check the token's role: {}", what, reply->status, detail)));
  }
  return std::unexpected(core::Error::Unavailable(fmt::format("Grafana {} failed ({}): {}", what, reply->status, detail)));
}

core::Status GrafanaClient::EnsureFolder(const std::string& uid, const std::string& title) {
  auto got = Send("GET", "/api/folders/" + uid, "");
  if (got && got->status == 200) return core::OkStatus();
  if (got && got->status != 404) return Expect(got, "folder lookup");
  if (!got) return std::unexpected(got.error());
  return Expect(Send("POST", "/api/folders", json::serialize(json::object{{"uid", uid}, {"title", title}})),
                "folder creation");
}

core::Status GrafanaClient::UpsertDatasource(const DatasourceSpec& spec) {
  json::object ds{{"uid", spec.uid},
                  {"name", spec.name},
                  {"type", "grafana-postgresql-datasource"},
                  {"access", "proxy"},
                  {"url", spec.host},
                  {"user", spec.user},
                  {"isDefault", false},
                  {"jsonData", json::object{{"database", spec.database},
                                            {"sslmode", spec.sslmode},
                                            {"postgresVersion", 1500},
                                            {"timescaledb", spec.timescaledb}}}};
  if (!spec.password.empty()) ds["secureJsonData"] = json::object{{"password", spec.password}};
  std::string body = json::serialize(ds);
  auto got = Send("GET", "/api/datasources/uid/" + spec.uid, "");
  if (!got) return std::unexpected(got.error());
  if (got->status == 200) return Expect(Send("PUT", "/api/datasources/uid/" + spec.uid, body), "datasource update");
  if (got->status != 404) return Expect(got, "datasource lookup");
  return Expect(Send("POST", "/api/datasources", body), "datasource creation");
}

core::Status GrafanaClient::UpsertDashboard(const GeneratedDashboard& dashboard, const std::string& folder_uid) {
  json::object model = dashboard.json.as_object();
  model["id"] = nullptr;  // Grafana matches by uid; a stale numeric id would be refused
  json::object body{{"dashboard", std::move(model)},
                    {"folderUid", folder_uid},
                    {"overwrite", true},
                    {"message", "updated by tally dashboards push"}};
  return Expect(Send("POST", "/api/dashboards/db", json::serialize(body)), "saving dashboard " + dashboard.uid);
}

core::Status GrafanaClient::Annotate(const std::string& dashboard_uid, core::Timestamp when, const std::string& text,
                                     const std::vector<std::string>& tags) {
  json::array tag_list;
  tag_list.emplace_back("tally");
  for (const auto& t : tags) tag_list.emplace_back(t);
  json::object body{{"time", core::ToMicros(when) / 1000}, {"text", text}, {"tags", std::move(tag_list)}};
  if (!dashboard_uid.empty()) body["dashboardUID"] = dashboard_uid;
  return Expect(Send("POST", "/api/annotations", json::serialize(body)), "annotation");
}

core::Status PushAll(GrafanaClient& client, const std::vector<GeneratedDashboard>& dashboards,
                     const DatasourceSpec& datasource, const std::string& folder_uid, const std::string& folder_title) {
  TALLY_RETURN_IF_ERROR(client.EnsureFolder(folder_uid, folder_title));
  TALLY_RETURN_IF_ERROR(client.UpsertDatasource(datasource));
  for (const auto& d : dashboards) TALLY_RETURN_IF_ERROR(client.UpsertDashboard(d, folder_uid));
  return core::OkStatus();
}

}  // namespace tally::dashboards
