#include "dashboards/grafana_dashboards.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

namespace tally::dashboards {
namespace {

namespace json = boost::json;

// Lays panels out left to right on Grafana's 24-column grid, wrapping rows,
// and numbers them in order so ids are stable across exports.
class DashboardBuilder {
 public:
  DashboardBuilder(std::string uid, std::string title, std::vector<std::string> tags, const DashboardOptions& options)
      : uid_(std::move(uid)), title_(std::move(title)), tags_(std::move(tags)), options_(options) {}

  void Stat(const std::string& title, const std::string& sql, const std::string& unit) {
    json::object panel = Base("stat", title, 4, 4);
    panel["targets"] = Targets(sql, "table");
    panel["fieldConfig"] = FieldConfig(unit);
    panel["options"] = json::object{{"reduceOptions", json::object{{"calcs", json::array{"lastNotNull"}},
                                                                   {"fields", ""},
                                                                   {"values", false}}},
                                    {"colorMode", "value"},
                                    {"graphMode", "none"},
                                    {"textMode", "auto"}};
    panels_.emplace_back(std::move(panel));
  }

  void TimeSeries(const std::string& title, const std::string& sql, const std::string& unit, int width = 24) {
    json::object panel = Base("timeseries", title, width, 8);
    panel["targets"] = Targets(sql, "time_series");
    panel["fieldConfig"] = FieldConfig(unit);
    panel["options"] = json::object{{"legend", json::object{{"displayMode", "list"}, {"placement", "bottom"},
                                                            {"showLegend", true}}},
                                    {"tooltip", json::object{{"mode", "multi"}, {"sort", "desc"}}}};
    panels_.emplace_back(std::move(panel));
  }

  void Table(const std::string& title, const std::string& sql, const std::string& unit = "", int width = 12) {
    json::object panel = Base("table", title, width, 8);
    panel["targets"] = Targets(sql, "table");
    panel["fieldConfig"] = FieldConfig(unit);
    panel["options"] = json::object{{"showHeader", true}, {"cellHeight", "sm"}};
    panels_.emplace_back(std::move(panel));
  }

  void Row(const std::string& title) {
    NewLine();
    json::object row{{"type", "row"},
                     {"title", title},
                     {"id", next_id_++},
                     {"collapsed", false},
                     {"panels", json::array{}},
                     {"gridPos", json::object{{"h", 1}, {"w", 24}, {"x", 0}, {"y", y_}}}};
    y_ += 1;
    panels_.emplace_back(std::move(row));
  }

  GeneratedDashboard Build() const {
    json::object annotations_builtin{
        {"builtIn", 1},
        {"datasource", json::object{{"type", "grafana"}, {"uid", "-- Grafana --"}}},
        {"enable", true},
        {"hide", false},  // shows the anomalies and pauses tally posts to this dashboard
        {"iconColor", "rgba(0, 211, 255, 1)"},
        {"name", "Annotations & Alerts"},
        {"type", "dashboard"}};
    json::array tags;
    for (const auto& t : tags_) tags.emplace_back(t);
    json::object d{{"uid", uid_},
                   {"title", title_},
                   {"tags", std::move(tags)},
                   {"timezone", options_.time_zone == "UTC" ? std::string("utc") : options_.time_zone},
                   {"editable", true},
                   {"graphTooltip", 1},
                   {"schemaVersion", 39},
                   {"version", 1},
                   {"refresh", "1m"},
                   {"time", json::object{{"from", "now-7d"}, {"to", "now"}}},
                   {"annotations", json::object{{"list", json::array{annotations_builtin}}}},
                   {"links", json::array{json::object{{"title", "tally"},
                                                      {"type", "dashboards"},
                                                      {"tags", json::array{"tally"}},
                                                      {"asDropdown", true},
                                                      {"icon", "external link"},
                                                      {"includeVars", false},
                                                      {"keepTime", true},
                                                      {"targetBlank", false},
                                                      {"tooltip", ""},
                                                      {"url", ""}}}},
                   {"panels", panels_}};
    return GeneratedDashboard{uid_, title_, std::move(d)};
  }

 private:
  json::object Base(const char* type, const std::string& title, int w, int h) {
    if (x_ + w > 24) NewLine();
    json::object p{{"type", type},
                   {"title", title},
                   {"id", next_id_++},
                   {"datasource", Datasource()},
                   {"gridPos", json::object{{"h", h}, {"w", w}, {"x", x_}, {"y", y_}}}};
    x_ += w;
    row_height_ = std::max(row_height_, h);
    return p;
  }

  void NewLine() {
    y_ += row_height_;
    x_ = 0;
    row_height_ = 0;
  }

  json::object Datasource() const {
    return json::object{{"type", "grafana-postgresql-datasource"}, {"uid", options_.datasource_uid}};
  }

  json::array Targets(const std::string& sql, const char* format) const {
    return json::array{json::object{{"refId", "A"},
                                    {"datasource", Datasource()},
                                    {"editorMode", "code"},
                                    {"format", format},
                                    {"rawQuery", true},
                                    {"rawSql", sql}}};
  }

  static json::object FieldConfig(const std::string& unit) {
    json::object defaults;
    if (!unit.empty()) defaults["unit"] = unit;
    return json::object{{"defaults", std::move(defaults)}, {"overrides", json::array{}}};
  }

  std::string uid_, title_;
  std::vector<std::string> tags_;
  const DashboardOptions& options_;
  json::array panels_;
  int next_id_ = 1;
  int x_ = 0, y_ = 0, row_height_ = 0;
};

// SQL quoting for a literal we put into a panel (product ids are UUIDs, but
// quote properly anyway).
std::string Literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Start of the current business day / month, as SQL: date_trunc in the
// configured zone (not the database session's).
std::string StartOf(const char* unit, const DashboardOptions& o) {
  return fmt::format("date_trunc('{}', now(), {})", unit, Literal(o.time_zone));
}

// A time-series bucket column: the business hour or day holding `column`.
// Grafana's $__timeGroupAlias would cut UTC hours and days, which are not the
// factory's days (nor the rollups') outside UTC.
std::string TimeBucket(const char* unit, const char* column, const DashboardOptions& o) {
  return fmt::format("date_trunc('{}', {}, {}) AS \"time\"", unit, column, Literal(o.time_zone));
}

GeneratedDashboard Overview(const DashboardOptions& o) {
  DashboardBuilder b("tally-overview", "tally / Factory Overview", {"tally", "overview"}, o);
  const std::string today = StartOf("day", o);
  const std::string month = StartOf("month", o);
  b.Stat("LLM spend today", "SELECT COALESCE(SUM(cost_usd), 0) AS spend FROM llm_calls WHERE time >= " + today, "currencyUSD");
  b.Stat("LLM spend MTD", "SELECT COALESCE(SUM(cost_usd), 0) AS spend FROM llm_calls WHERE time >= " + month, "currencyUSD");
  b.Stat("Revenue MTD (net)", "SELECT COALESCE(SUM(amount_usd), 0) AS revenue FROM revenue_events WHERE time >= " + month, "currencyUSD");
  b.Stat("Budget used today",
         "SELECT COALESCE(SUM(LEAST(COALESCE(s.spent, 0), a.daily_budget)) / NULLIF(SUM(a.daily_budget), 0), 0) AS used "
         "FROM agents a LEFT JOIN (SELECT agent_id, SUM(cost_usd) AS spent FROM llm_calls "
         "WHERE time >= " + today + " GROUP BY agent_id) s ON s.agent_id = a.id WHERE a.daily_budget IS NOT NULL",
         "percentunit");
  b.Stat("Active agents (24 h)", "SELECT COUNT(DISTINCT agent_id) AS agents FROM llm_calls WHERE time >= now() - interval '24 hours'", "short");
  b.Stat("Error rate (24 h)",
         "SELECT COUNT(*) FILTER (WHERE status <> 'success')::float / NULLIF(COUNT(*), 0) AS error_rate "
         "FROM llm_calls WHERE time >= now() - interval '24 hours'",
         "percentunit");
  b.Stat("Avg latency (24 h)", "SELECT AVG(latency_ms) / 1000.0 AS latency FROM llm_calls WHERE time >= now() - interval '24 hours'", "s");
  b.Stat("Cache hit rate (24 h)",
         "SELECT SUM(cached_tokens)::float / NULLIF(SUM(input_tokens), 0) AS cache_hit FROM llm_calls "
         "WHERE time >= now() - interval '24 hours'",
         "percentunit");
  b.TimeSeries("Cost per hour",
               "SELECT " + TimeBucket("hour", "time", o) + ", SUM(cost_usd) AS cost FROM llm_calls WHERE $__timeFilter(time) "
               "GROUP BY 1 ORDER BY 1",
               "currencyUSD");
  b.Table("Top cost agents (today)",
          "SELECT agent_id AS agent, SUM(cost_usd) AS spend FROM llm_calls WHERE time >= " + today + " "
          "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
          "currencyUSD");
  b.Table("Top revenue products (MTD)",
          "SELECT p.name AS product, SUM(re.amount_usd) AS revenue FROM revenue_events re JOIN products p ON p.id = re.product_id "
          "WHERE re.time >= " + month + " GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
          "currencyUSD");
  return b.Build();
}

GeneratedDashboard Financial(const DashboardOptions& o) {
  DashboardBuilder b("tally-financial", "tally / Financial", {"tally", "financial"}, o);
  b.Row("Revenue");
  b.TimeSeries("Revenue per day by product (net of refunds)",
               "SELECT " + TimeBucket("day", "re.time", o) + ", p.name AS metric, SUM(re.amount_usd) AS revenue "
               "FROM revenue_events re JOIN products p ON p.id = re.product_id WHERE $__timeFilter(re.time) "
               "GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.TimeSeries("Revenue per day by channel",
               "SELECT " + TimeBucket("day", "re.time", o) + ", COALESCE(rc.channel_type, 'unattributed') AS metric, "
               "SUM(re.amount_usd) AS revenue FROM revenue_events re LEFT JOIN revenue_channels rc ON rc.id = re.channel_id "
               "WHERE $__timeFilter(re.time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.Row("Costs");
  b.TimeSeries("LLM cost per day by agent",
               "SELECT " + TimeBucket("day", "time", o) + ", agent_id AS metric, SUM(cost_usd) AS cost FROM llm_calls "
               "WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.TimeSeries("Infra cost per day by type",
               "SELECT " + TimeBucket("day", "time", o) + ", cost_type AS metric, SUM(amount_usd) AS cost FROM infra_costs "
               "WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.Row("P&L and cash flow");
  b.Table("P&L per product",
          "SELECT product_name AS product, SUM(revenue) AS revenue, SUM(agent_cost) AS agent_cost, "
          "SUM(infra_cost) AS infra_cost, SUM(net_profit) AS net_profit FROM product_pnl_daily "
          "WHERE day >= $__timeFrom() AND day < $__timeTo() GROUP BY 1 ORDER BY 5 DESC",
          "currencyUSD", 12);
  b.TimeSeries("Cash flow: cumulative net profit",
               "SELECT day AS time, SUM(SUM(net_profit)) OVER (ORDER BY day) AS cumulative_net FROM product_pnl_daily "
               "WHERE $__timeFilter(day) GROUP BY day ORDER BY day",
               "currencyUSD", 12);
  return b.Build();
}

GeneratedDashboard Agents(const DashboardOptions& o) {
  DashboardBuilder b("tally-agents", "tally / Agent Performance", {"tally", "agents"}, o);
  b.Table("Per-agent cost and efficiency",
          "SELECT agent_id AS agent, COUNT(*) AS calls, SUM(cost_usd) AS cost, AVG(latency_ms) AS avg_latency_ms, "
          "COUNT(*) FILTER (WHERE status <> 'success')::float / COUNT(*) AS error_rate, "
          "SUM(cached_tokens)::float / NULLIF(SUM(input_tokens), 0) AS cache_hit_rate "
          "FROM llm_calls WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 3 DESC",
          "", 24);
  b.Table("Task completion",
          "SELECT agent_id AS agent, COUNT(*) FILTER (WHERE status = 'completed') AS completed, "
          "COUNT(*) FILTER (WHERE status = 'failed') AS failed, COUNT(*) FILTER (WHERE status = 'escalated') AS escalated, "
          "COUNT(*) FILTER (WHERE status = 'completed')::float / NULLIF(COUNT(*), 0) AS completion_rate, "
          "AVG(total_cost_usd) FILTER (WHERE status = 'completed') AS avg_cost_per_task "
          "FROM task_events WHERE $__timeFilter(time) AND status <> 'started' GROUP BY 1 ORDER BY 2 DESC",
          "", 12);
  b.TimeSeries("Model usage (cost per hour by model)",
               "SELECT " + TimeBucket("hour", "time", o) + ", model AS metric, SUM(cost_usd) AS cost FROM llm_calls "
               "WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.TimeSeries("Errors per hour by agent",
               "SELECT " + TimeBucket("hour", "time", o) + ", agent_id AS metric, COUNT(*) FILTER (WHERE status <> 'success') AS errors "
               "FROM llm_calls WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "short", 24);
  return b.Build();
}

GeneratedDashboard Growth(const DashboardOptions& o) {
  DashboardBuilder b("tally-growth", "tally / Growth", {"tally", "growth"}, o);
  b.TimeSeries("Pageviews per day by channel",
               "SELECT " + TimeBucket("day", "time", o) + ", channel AS metric, SUM(value) AS pageviews FROM growth_events "
               "WHERE metric = 'pageview' AND $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "short", 12);
  b.TimeSeries("Signups and conversions per day",
               "SELECT " + TimeBucket("day", "time", o) + ", metric, SUM(value) AS value FROM growth_events "
               "WHERE metric IN ('signup', 'trial_start', 'conversion') AND $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "short", 12);
  b.Table("Conversion funnel by product",
          "SELECT p.name AS product, SUM(g.value) FILTER (WHERE g.metric = 'pageview') AS visits, "
          "SUM(g.value) FILTER (WHERE g.metric = 'signup') AS signups, "
          "SUM(g.value) FILTER (WHERE g.metric = 'conversion') AS conversions, "
          "SUM(g.value) FILTER (WHERE g.metric = 'conversion') / NULLIF(SUM(g.value) FILTER (WHERE g.metric = 'signup'), 0) "
          "AS signup_to_paid FROM growth_events g JOIN products p ON p.id = g.product_id WHERE $__timeFilter(g.time) "
          "GROUP BY 1 ORDER BY 2 DESC",
          "", 24);
  return b.Build();
}

GeneratedDashboard Ops(const DashboardOptions& o) {
  DashboardBuilder b("tally-ops", "tally / Ops Health", {"tally", "ops"}, o);
  b.TimeSeries("LLM latency (avg per hour)",
               "SELECT " + TimeBucket("hour", "time", o) + ", AVG(latency_ms) / 1000.0 AS latency FROM llm_calls "
               "WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1",
               "s", 12);
  b.TimeSeries("LLM error budget: error rate per hour",
               "SELECT " + TimeBucket("hour", "time", o) + ", COUNT(*) FILTER (WHERE status <> 'success')::float / COUNT(*) AS error_rate "
               "FROM llm_calls WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1",
               "percentunit", 12);
  b.TimeSeries("Infra costs per day by provider",
               "SELECT " + TimeBucket("day", "time", o) + ", provider AS metric, SUM(amount_usd) AS cost FROM infra_costs "
               "WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 24);
  return b.Build();
}

GeneratedDashboard Product(const model::Product& p, const DashboardOptions& o) {
  DashboardBuilder b(ProductDashboardUid(p), "tally / Product / " + p.name, {"tally", "product"}, o);
  std::string id = Literal(p.id);
  b.Stat("Revenue in range (net)",
         "SELECT COALESCE(SUM(amount_usd), 0) AS revenue FROM revenue_events WHERE product_id = " + id +
             " AND $__timeFilter(time)",
         "currencyUSD");
  b.Stat("Active subscriptions",
         "SELECT COUNT(*) FILTER (WHERE event_type = 'subscription_start') - "
         "COUNT(*) FILTER (WHERE event_type = 'subscription_cancel') AS active FROM revenue_events WHERE product_id = " + id,
         "short");
  b.Stat("Customers in range",
         "SELECT COUNT(DISTINCT customer_id) AS customers FROM revenue_events WHERE product_id = " + id +
             " AND $__timeFilter(time)",
         "short");
  b.Stat("Net profit in range",
         "SELECT COALESCE(SUM(net_profit), 0) AS net_profit FROM product_pnl_daily WHERE product_name = " +
             Literal(p.name) + " AND day >= $__timeFrom() AND day < $__timeTo()",
         "currencyUSD");
  b.TimeSeries("Revenue per day by event type",
               "SELECT " + TimeBucket("day", "time", o) + ", event_type AS metric, SUM(amount_usd) AS revenue FROM revenue_events "
               "WHERE product_id = " + id + " AND $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "currencyUSD", 12);
  b.TimeSeries("User funnel per day (visit, signup, paid)",
               "SELECT " + TimeBucket("day", "time", o) + ", metric, SUM(value) AS value FROM growth_events WHERE product_id = " + id +
                   " AND metric IN ('pageview', 'signup', 'conversion') AND $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1",
               "short", 12);
  return b.Build();
}

void Pretty(const json::value& v, int indent, std::string& out) {
  auto pad = [&](int n) { out.append(static_cast<size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      size_t i = 0;
      for (const auto& kv : o) {
        pad(indent + 1);
        out += json::serialize(json::value(kv.key()));
        out += ": ";
        Pretty(kv.value(), indent + 1, out);
        out += ++i < o.size() ? ",\n" : "\n";
      }
      pad(indent);
      out += "}";
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        pad(indent + 1);
        Pretty(a[i], indent + 1, out);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      pad(indent);
      out += "]";
      return;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

std::string ProductDashboardUid(const model::Product& product) {
  std::string compact;
  for (char c : product.id) {
    if (c != '-') compact += c;
  }
  return "tally-product-" + compact.substr(0, 12);
}

std::vector<GeneratedDashboard> BuildDashboards(const std::vector<model::Product>& products,
                                                const DashboardOptions& options) {
  std::vector<GeneratedDashboard> out;
  out.push_back(Overview(options));
  out.push_back(Financial(options));
  out.push_back(Agents(options));
  out.push_back(Growth(options));
  out.push_back(Ops(options));
  std::vector<const model::Product*> sorted;
  for (const auto& p : products) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (const auto* p : sorted) out.push_back(Product(*p, options));
  return out;
}

std::string PrettyJson(const json::value& v) {
  std::string out;
  Pretty(v, 0, out);
  out += '\n';
  return out;
}

core::Status ExportDashboards(const std::vector<GeneratedDashboard>& dashboards, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format("cannot create '{}': {}", dir, ec.message())));
  }
  for (const auto& d : dashboards) {
    std::string path = dir + "/" + d.uid + ".json";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << PrettyJson(d.json);
    if (!out) return std::unexpected(core::Error::Unavailable(fmt::format("cannot write '{}'", path)));
  }
  return core::OkStatus();
}

}  // namespace tally::dashboards
