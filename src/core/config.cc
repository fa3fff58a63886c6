#include "core/config.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <toml++/toml.h>

#include "core/config_alerts_toml.h"

namespace tally::core {
namespace {

Status ReadInt(const char* name, const char* text, std::int64_t* out) {
  std::string_view s(text);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) {
    return std::unexpected(Error::InvalidArgument(fmt::format("{}='{}' is not a positive integer", name, s)));
  }
  *out = v;
  return OkStatus();
}

}  // namespace

Status LoadConfigFile(const std::string& path, Config* config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("config {}: {} at line {}", path, e.description(), e.source().begin.line)));
  }
  for (auto&& [section_key, section_node] : table) {
    const toml::table* section = section_node.as_table();
    std::string section_name(section_key.str());
    if (section == nullptr) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("config {}: top-level key '{}' must be a [section]", path, section_name)));
    }
    if (section_name == "alerts") {  // nested tables: rules, overrides, notifiers
      TALLY_RETURN_IF_ERROR(LoadAlertsSection(path, *section, &config->alerts));
      continue;
    }
    for (auto&& [key, node] : *section) {
      std::string name = section_name + "." + std::string(key.str());
      auto str = [&](std::string* out) -> Status {
        if (auto v = node.value<std::string>()) { *out = *v; return OkStatus(); }
        return std::unexpected(Error::InvalidArgument(fmt::format("config {}: {} must be a string", path, name)));
      };
      auto num = [&](std::int64_t* out) -> Status {
        if (auto v = node.value<std::int64_t>(); v && *v > 0) { *out = *v; return OkStatus(); }
        return std::unexpected(Error::InvalidArgument(fmt::format("config {}: {} must be a positive integer", path, name)));
      };
      Status s;
      std::int64_t threads = config->io_threads;
      if (name == "server.listen") s = str(&config->listen);
      else if (name == "server.threads") { s = num(&threads); config->io_threads = static_cast<int>(threads); }
      else if (name == "server.max_body_bytes") s = num(&config->max_body_bytes);
      else if (name == "store.data_dir") s = str(&config->data_dir);
      else if (name == "store.url") s = str(&config->store_url);
      else if (name == "pipeline.queue_events") s = num(&config->queue_events);
      else if (name == "pipeline.group_events") s = num(&config->group_events);
      else if (name == "pipeline.writers") s = num(&config->pipeline_writers);
      else if (name == "pricing.price_table") s = str(&config->price_table);
      else if (name == "log.level") s = str(&config->log_level);
      else if (name == "grafana.url") s = str(&config->grafana_url);
      else if (name == "grafana.token") s = str(&config->grafana_token);
      else if (name == "business.time_zone") s = str(&config->time_zone);
      else if (name == "budget.reservation_ttl_seconds") s = num(&config->budget_reservation_ttl_seconds);
      else if (name == "budget.runaway_usd_per_min") s = str(&config->budget_runaway_usd_per_min);
      else if (name == "budget.runaway_multiple") s = num(&config->budget_runaway_multiple);
      else if (name == "budget.runaway_floor_usd_per_min") s = str(&config->budget_runaway_floor_usd_per_min);
      else if (name == "budget.unknown_model_usd_per_mtok") s = str(&config->budget_unknown_model_usd_per_mtok);
      else if (name == "live.redis_url") s = str(&config->live_redis_url);
      else if (name == "live.redis_prefix") s = str(&config->live_redis_prefix);
      else if (name == "live.redis_down_policy") s = str(&config->live_redis_down_policy);
      else if (IsSourcesSection(section_name)) {
        // Source settings take a string, a number (as text) or an array of strings.
        std::vector<std::string> values;
        if (auto v = node.value<std::string>()) values.push_back(*v);
        else if (node.is_number()) values.push_back(node.is_integer() ? std::to_string(*node.value<std::int64_t>())
                                                                     : fmt::format("{}", *node.value<double>()));
        else if (const toml::array* arr = node.as_array()) {
          for (auto&& item : *arr) {
            if (auto v = item.value<std::string>()) values.push_back(*v);
            else return std::unexpected(Error::InvalidArgument(fmt::format("config {}: {} must hold strings", path, name)));
          }
        }
        s = LoadSourcesKey(path, name, values, &config->sources);
      }
      else return std::unexpected(Error::InvalidArgument(fmt::format("config {}: unknown key '{}'", path, name)));
      if (!s) return s;
    }
  }
  return OkStatus();
}

Status ApplyEnvironment(Config* config) {
  if (const char* v = std::getenv("TALLY_LISTEN")) config->listen = v;
  if (const char* v = std::getenv("TALLY_DATA")) config->data_dir = v;
  if (const char* v = std::getenv("TALLY_STORE_URL")) config->store_url = v;
  if (const char* v = std::getenv("TALLY_PRICE_TABLE")) config->price_table = v;
  if (const char* v = std::getenv("TALLY_LOG_LEVEL")) config->log_level = v;
  if (const char* v = std::getenv("TALLY_GRAFANA_URL")) config->grafana_url = v;
  if (const char* v = std::getenv("TALLY_GRAFANA_TOKEN")) config->grafana_token = v;
  if (const char* v = std::getenv("TALLY_TIME_ZONE")) config->time_zone = v;
  if (const char* v = std::getenv("TALLY_LIVE_REDIS_URL")) config->live_redis_url = v;
  if (const char* v = std::getenv("TALLY_LIVE_REDIS_DOWN_POLICY")) config->live_redis_down_policy = v;
  if (const char* v = std::getenv("TALLY_MAX_BODY_BYTES")) TALLY_RETURN_IF_ERROR(ReadInt("TALLY_MAX_BODY_BYTES", v, &config->max_body_bytes));
  if (const char* v = std::getenv("TALLY_QUEUE_EVENTS")) TALLY_RETURN_IF_ERROR(ReadInt("TALLY_QUEUE_EVENTS", v, &config->queue_events));
  if (const char* v = std::getenv("TALLY_GROUP_EVENTS")) TALLY_RETURN_IF_ERROR(ReadInt("TALLY_GROUP_EVENTS", v, &config->group_events));
  if (const char* v = std::getenv("TALLY_PIPELINE_WRITERS")) TALLY_RETURN_IF_ERROR(ReadInt("TALLY_PIPELINE_WRITERS", v, &config->pipeline_writers));
  if (const char* v = std::getenv("TALLY_IO_THREADS")) {
    std::int64_t t = 0;
    TALLY_RETURN_IF_ERROR(ReadInt("TALLY_IO_THREADS", v, &t));
    config->io_threads = static_cast<int>(t);
  }
  TALLY_RETURN_IF_ERROR(ApplySourcesEnvironment(&config->sources));
  return OkStatus();
}

}  // namespace tally::core
