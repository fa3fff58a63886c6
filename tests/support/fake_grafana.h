// FakeGrafana: a local HTTP server (support/http_receiver.h) that answers just enough of Grafana's
// HTTP API (folders, datasources, dashboards/db, annotations) and checks each
// request as Grafana documents it: paths, methods, JSON bodies, bearer token.
// Violations are recorded for the test to assert on.
#pragma once

#include <boost/json/parse.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/clock.h"
#include "server/http_server.h"
#include "server/router.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_receiver.h"
#include "support/temp_dir.h"

namespace tally::testing {

namespace json = boost::json;
using server::Call;
using server::HttpResponse;
using server::Responder;

// Just enough of Grafana's API: folders, datasources, dashboards/db, annotations.
class FakeGrafana {
 public:
  explicit FakeGrafana(std::string token) : token_(std::move(token)) {
    Route("GET", "/api/folders/{uid}", [this](Call& c, json::value&) {
      return folders_.count(c.params["uid"]) ? Ok(json::object{{"uid", c.params["uid"]}}) : NotFound();
    });
    Route("POST", "/api/folders", [this](Call&, json::value& body) {
      const auto& o = body.as_object();
      Require(o.contains("uid") && o.contains("title"), "folder body needs uid and title");
      folders_.insert(std::string(o.at("uid").as_string()));
      return Ok(json::object{{"uid", o.at("uid")}});
    });
    Route("GET", "/api/datasources/uid/{uid}", [this](Call& c, json::value&) {
      return datasources_.count(c.params["uid"]) ? Ok(json::object{{"uid", c.params["uid"]}}) : NotFound();
    });
    auto check_ds = [this](const json::object& o) {
      Require(o.at("type").as_string() == "grafana-postgresql-datasource", "datasource type");
      Require(o.at("access").as_string() == "proxy", "datasource access");
      Require(o.at("jsonData").as_object().contains("database"), "jsonData.database");
    };
    Route("POST", "/api/datasources", [this, check_ds](Call&, json::value& body) {
      check_ds(body.as_object());
      datasources_.insert(std::string(body.as_object().at("uid").as_string()));
      return Ok(json::object{{"message", "Datasource added"}});
    });
    Route("PUT", "/api/datasources/uid/{uid}", [this, check_ds](Call& c, json::value& body) {
      check_ds(body.as_object());
      Require(datasources_.count(c.params["uid"]) == 1, "PUT of an unknown datasource");
      return Ok(json::object{{"message", "Datasource updated"}});
    });
    Route("POST", "/api/dashboards/db", [this](Call&, json::value& body) {
      const auto& o = body.as_object();
      const auto& d = o.at("dashboard").as_object();
      Require(d.at("id").is_null(), "dashboard.id must be null for a uid-keyed save");
      Require(!d.at("uid").as_string().empty() && !d.at("title").as_string().empty(), "uid and title");
      Require(o.at("overwrite").as_bool(), "overwrite");
      Require(folders_.count(std::string(o.at("folderUid").as_string())) == 1, "folderUid of an existing folder");
      dashboards_.insert(std::string(d.at("uid").as_string()));
      return Ok(json::object{{"status", "success"}, {"uid", d.at("uid")}});
    });
    Route("POST", "/api/annotations", [this](Call&, json::value& body) {
      const auto& o = body.as_object();
      Require(o.at("time").is_int64() && o.at("text").is_string() && o.at("tags").is_array(), "annotation fields");
      ++annotations_;
      return Ok(json::object{{"message", "Annotation added"}, {"id", annotations_}});
    });
    server_.Start();
  }
  ~FakeGrafana() { server_.Stop(); }

  std::string url() const { return server_.url(); }
  std::vector<std::string> log() {
    std::lock_guard l(mu_);
    return log_;
  }
  std::vector<std::string> violations() {
    std::lock_guard l(mu_);
    return violations_;
  }
  std::set<std::string> dashboards() {
    std::lock_guard l(mu_);
    return dashboards_;
  }
  int annotations() {
    std::lock_guard l(mu_);
    return annotations_;
  }

 private:
  using Fn = std::function<HttpResponse(Call&, json::value&)>;
  void Route(const std::string& method, const std::string& pattern, Fn fn) {
    server_.router().Add(method, pattern, server::kPublic, [this, method, fn](std::shared_ptr<Call> c, Responder respond) {
      std::lock_guard l(mu_);
      log_.push_back(method + " " + c->request.path);
      if (c->request.Header("authorization").value_or("") != "Bearer " + token_) {
        respond(Status(401, "bad token"));
        return;
      }
      json::value body;
      if (method != "GET") {
        if (c->request.Header("content-type").value_or("") != "application/json") {
          violations_.push_back(method + " " + c->request.path + ": content-type");
        }
        body = json::parse(c->request.body);
      }
      try {
        respond(fn(*c, body));
      } catch (const std::exception& e) {
        violations_.push_back(method + " " + c->request.path + ": " + e.what());
        respond(Status(400, e.what()));
      }
    });
  }
  static void Require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
  }
  static HttpResponse Ok(json::object body) { return server::JsonResponse(200, body); }
  static HttpResponse NotFound() { return Status(404, "not found"); }
  static HttpResponse Status(int code, const char* message) {
    return server::JsonResponse(code, json::object{{"message", message}});
  }

  std::string token_;
  HttpReceiver server_;  // the local HTTP server; FakeGrafana adds Grafana's routes
  std::mutex mu_;
  std::vector<std::string> log_;
  std::vector<std::string> violations_;
  std::set<std::string> folders_, datasources_, dashboards_;
  int annotations_ = 0;
};


}  // namespace tally::testing
