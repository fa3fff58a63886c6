// `tally kpi`, `tally pnl [--product X]`, `tally roi`: the same answers as
// /v1/kpis, /v1/pnl and /v1/roi/* (server/analytics_views.h), as terminal
// tables or --json; read-only, safe while the server runs.
// `tally rollups rebuild`: recomputes every rollup from raw in one transaction.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "server/analytics_views.h"

namespace tally::cli {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "-";
  if (v.is_double()) return fmt::format("{:.2f}", v.as_double());
  if (v.is_int64()) return fmt::format("{}", v.as_int64());
  return json::serialize(v);
}

// A KPI value for people: $, %, days.
std::string KpiValue(const json::object& k) {
  const json::value& v = k.at("value");
  if (v.is_null()) return "-";
  const double x = v.is_double() ? v.as_double() : static_cast<double>(v.as_int64());
  const std::string unit(k.at("unit").as_string());
  if (unit == "usd" || unit == "usd_per_month") return fmt::format("${:.2f}", x);
  if (unit == "ratio" || unit == "ratio_per_month") return fmt::format("{:.1f}%", x * 100);
  if (unit == "percent") return fmt::format("{:.1f}%", x);
  if (unit == "days") return fmt::format("{:.1f} d", x);
  if (unit == "score") return fmt::format("{:.2f}", x);
  if (unit == "per_week") return fmt::format("{:.1f}/wk", x);
  return fmt::format("{:g}", x);
}

std::string Change(const json::value& v) {
  if (v.is_null()) return "";
  return fmt::format("{:+.1f}%", v.as_double() * 100);
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c)
      out += fmt::format("{}{:<{}}", c ? "  " : "", r[c], width[c]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

void PrintKpis(const char* title, const json::array& kpis) {
  std::cout << "\n" << title << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : kpis) {
    const json::object& k = v.as_object();
    rows.push_back({Str(k.at("name")), KpiValue(k), Str(k.at("target")), Str(k.at("status")),
                    Change(k.at("change")), Str(k.at("note"))});
  }
  PrintTable({"KPI", "value", "target", "status", "change", "note"}, rows);
}

void PrintPeriod(const json::object& body) {
  const json::object& p = body.at("period").as_object();
  std::cout << "period " << Str(p.at("from")) << " .. " << Str(p.at("to")) << " (" << Str(p.at("time_zone")) << ")\n";
}

}  // namespace

int RunAnalytics(const AnalyticsArgs& args) {
  auto store = OpenStore(args.config.data_dir, /*read_only=*/true);
  if (!store) return Fail(store.error());
  auto calendar = server::StoreCalendar(**store);
  if (!calendar) return Fail(calendar.error());
  auto q = server::ParseAnalyticsQuery(args.params, core::SystemClock::Instance().Now(), *calendar);
  if (!q) return Fail(q.error());
  core::Result<json::value> body = std::unexpected(core::Error::Internal("unknown command"));
  json::value agents_roi;
  if (args.command == "kpi") {
    body = server::KpisJson(**store, *q);
  } else if (args.command == "pnl") {
    body = server::PnlJson(**store, *q);
  } else if (args.command == "roi") {
    body = server::ProductRoiJson(**store, *q);
    if (body) {
      auto agents = server::AgentRoiJson(**store, *q);
      if (!agents) return Fail(agents.error());
      agents_roi = std::move(*agents);
    }
  }
  if (!body) return Fail(body.error());
  if (args.json) {
    if (args.command == "roi") {
      std::cout << json::serialize(json::object{{"products", *body}, {"agents", agents_roi}})
                << "\n";
    } else {
      std::cout << json::serialize(*body) << "\n";
    }
    return 0;
  }
  const json::object& b = body->as_object();
  PrintPeriod(b);
  if (args.command == "kpi") {
    PrintKpis("Factory", b.at("factory").as_array());
    PrintKpis("Agents", b.at("agents").as_array());
    PrintKpis("Products", b.at("products").as_array());
    PrintKpis("Growth", b.at("growth").as_array());
  } else if (args.command == "pnl") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : b.at("products").as_array()) {
      const json::object& l = v.as_object();
      rows.push_back(
          {Str(l.at("product_name")).empty() ? Str(l.at("product_id")) : Str(l.at("product_name")),
           Str(l.at("revenue")), Str(l.at("agent_cost")), Str(l.at("infra_cost")),
           Str(l.at("net_profit")), Str(l.at("shared_allocated")),
           Str(l.at("fully_loaded_profit"))});
    }
    std::cout << "\nP&L (USD; revenue is net of refunds; shared cost allocated by "
              << Str(b.at("allocation")) << ")\n";
    PrintTable(
        {"product", "revenue", "agent cost", "infra", "net profit", "shared", "fully loaded"},
        rows);
    const json::object& t = b.at("totals").as_object();
    std::cout << "\nfactory: revenue " << Str(t.at("revenue")) << ", total cost "
              << Str(t.at("total_cost")) << ", shared cost " << Str(t.at("shared_cost"))
              << ", net profit " << Str(t.at("net_profit")) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : b.at("items").as_array()) {
      const json::object& r = v.as_object();
      std::string payback = "-";
      if (const auto* p = r.if_contains("payback")) {
        const json::object& po = p->as_object();
        if (!po.at("payback_days").is_null()) {
          payback = fmt::format("{:.0f} d", po.at("payback_days").as_double());
        } else if (!po.at("projected_break_even").is_null()) {
          payback = "~" + Str(po.at("projected_break_even")).substr(0, 10);
        }
      }
      const json::value& roi = r.at("roi_percent");
      rows.push_back({Str(r.at("product_name")), Str(r.at("revenue")), Str(r.at("agent_cost")),
                      Str(r.at("infra_cost")), Str(r.at("net_profit")),
                      roi.is_null() ? "undefined" : fmt::format("{:.1f}%", roi.as_double()),
                      payback});
    }
    std::cout << "\nROI per product (USD)\n";
    PrintTable({"product", "revenue", "agent cost", "infra", "net profit", "ROI", "payback"}, rows);
    rows.clear();
    for (const auto& v : agents_roi.as_object().at("items").as_array()) {
      const json::object& r = v.as_object();
      const json::value& roi = r.at("roi_percent");
      rows.push_back({Str(r.at("agent_id")), Str(r.at("cost")), Str(r.at("attributed_revenue")),
                      roi.is_null() ? "undefined" : fmt::format("{:.1f}%", roi.as_double())});
    }
    std::cout << "\nROI per agent (revenue attributed by task hours)\n";
    PrintTable({"agent", "cost", "attributed revenue", "ROI"}, rows);
  }
  return 0;
}

int RunRollupsRebuild(const core::Config& config) {
  auto store = OpenStore(config.data_dir);
  if (!store) return Fail(store.error());
  // The configured [business] time_zone wins: a different stored zone is
  // replaced, which rebuilds everything in the new zone anyway.
  auto calendar = core::BusinessCalendar::Create(config.time_zone);
  if (!calendar) return Fail(calendar.error());
  auto stored = (*store)->RollupTimeZone();
  if (!stored) return Fail(stored.error());
  auto s = *stored == calendar->time_zone() ? (*store)->RebuildRollups()
                                             : (*store)->SetRollupTimeZone(calendar->time_zone());
  if (!s) return Fail(s.error());
  std::cout << "rollups rebuilt from raw events in business days of " << calendar->time_zone()
            << "\n";
  return 0;
}

}  // namespace tally::cli
