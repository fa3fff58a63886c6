#include "alerts/prober.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/curl_http.h"

namespace tally::alerts {

void ProbeBoard::Record(const std::string& product_id, const std::string& url, bool ok, int status,
                        std::int64_t latency_ms, const std::string& error, core::Timestamp at) {
  std::lock_guard lock(mu_);
  ProbeState& s = states_[product_id];
  s.product_id = product_id;
  if (s.url != url) {  // a new URL starts a new history
    s.failing_since.reset();
    s.last_ok_at.reset();
    s.url = url;
  }
  s.last_checked_at = at;
  s.last_status = status;
  s.last_latency_ms = latency_ms;
  s.last_error = error;
  if (ok) {
    s.last_ok_at = at;
    s.failing_since.reset();
  } else if (!s.failing_since) {
    s.failing_since = at;
  }
}

void ProbeBoard::Retain(const std::vector<std::string>& product_ids) {
  std::lock_guard lock(mu_);
  for (auto it = states_.begin(); it != states_.end();) {
    bool keep = std::find(product_ids.begin(), product_ids.end(), it->first) != product_ids.end();
    it = keep ? std::next(it) : states_.erase(it);
  }
}

std::vector<ProbeState> ProbeBoard::States() const {
  std::lock_guard lock(mu_);
  std::vector<ProbeState> out;
  for (const auto& [_, s] : states_) out.push_back(s);
  return out;
}

std::string HealthUrl(const model::Product& p) {
  if (p.metadata.empty()) return {};
  boost::system::error_code ec;
  auto doc = boost::json::parse(p.metadata, ec);
  if (ec || !doc.is_object()) return {};
  const auto* v = doc.as_object().if_contains("health_url");
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

Prober::Prober(store::Store& store, const core::Clock& clock, ProbeBoard& board, Options options,
               std::function<void(model::OpsEvent)> record)
    : store_(store), clock_(clock), board_(board), options_(options), record_(std::move(record)) {}

Prober::~Prober() { Stop(); }

core::Status Prober::ProbeAll() {
  auto products = TALLY_TRY(store_.ListProducts());
  std::vector<std::string> probed;
  for (const auto& p : products) {
    std::string url = HealthUrl(p);
    if (url.empty()) continue;
    probed.push_back(p.id);
    core::Timestamp at = clock_.Now();
    auto r = CurlRequest("GET", url, {}, "", options_.timeout);
    bool ok = r && r->status >= 200 && r->status < 400;
    int status = r ? static_cast<int>(r->status) : 0;
    std::int64_t latency = r ? r->latency.count() : options_.timeout.count();
    std::string error = r ? std::string() : r.error().message();
    board_.Record(p.id, url, ok, status, latency, error, at);
    if (record_) {
      model::OpsEvent e;
      e.event_id = fmt::format("uptime:{}:{}", p.id, core::ToMicros(at));
      e.time = at;
      e.product_id = p.id;
      e.kind = "uptime_check";
      e.source = "tally";
      e.status = ok ? "up" : "down";
      e.latency_ms = latency;
      if (status != 0) e.status_code = status;
      record_(std::move(e));
    }
  }
  board_.Retain(probed);
  return core::OkStatus();
}

void Prober::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      if (auto s = ProbeAll(); !s) spdlog::warn("uptime probes: {}", s.error().ToString());
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

void Prober::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tally::alerts
