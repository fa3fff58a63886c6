// `tally alerts list [--state firing|resolved] [--json] | ack ID | silence ID
// (--until T | --minutes N)`: the alerts table on the data folder directly
// (the server need not run), as GET /v1/alerts and POST /v1/alerts/{id}/...
// do. Acks and silences are audited with actor "cli".
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "server/handlers.h"

namespace tally::cli {

int RunAlerts(const AlertsArgs& args) {
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  core::Timestamp now = core::SystemClock::Instance().Now();
  if (args.action == "ack" || args.action == "silence") {
    if (args.id <= 0) return Fail(core::Error::InvalidArgument(fmt::format("alert id {} is not positive", args.id)));
    core::Status s;
    if (args.action == "ack") {
      s = (*store)->AckAlert(args.id, "cli", now);
    } else {
      core::Timestamp until;
      if (!args.until.empty()) {
        auto t = core::ParseRfc3339(args.until);
        if (!t) return Fail(core::Error::InvalidArgument(fmt::format("--until: {}", t.error().message())));
        until = *t;
      } else if (args.minutes > 0) {
        until = now + std::chrono::minutes(args.minutes);
      } else {
        return Fail(core::Error::InvalidArgument("silence needs --until RFC3339 or --minutes N"));
      }
      s = (*store)->SilenceAlert(args.id, until, "cli", now);
    }
    if (!s) return Fail(s.error());
    auto a = (*store)->GetAlert(args.id);
    if (!a) return Fail(a.error());
    std::cout << boost::json::serialize(server::AlertJson(*a)) << "\n";
    return 0;
  }
  store::AlertFilter filter;
  filter.state = args.state;
  filter.limit = args.limit;
  auto alerts = (*store)->ListAlerts(filter);
  if (!alerts) return Fail(alerts.error());
  if (args.json) {
    boost::json::array out;
    for (const auto& a : *alerts) out.push_back(server::AlertJson(a));
    std::cout << boost::json::serialize(boost::json::object{{"alerts", std::move(out)}}) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<6} {:<9} {:<9} {:<17} {:<22} {}\n", "ID", "STATE", "SEVERITY", "RULE",
                           "FIRED", "MESSAGE");
  for (const auto& a : *alerts) {
    std::string state = a.state;
    if (a.silenced_until && *a.silenced_until > now) state += "~";  // silenced
    else if (a.acked_at) state += "*";                              // acknowledged
    std::cout << fmt::format("{:<6} {:<9} {:<9} {:<17} {:<22} {}\n", a.id, state, a.severity, a.rule,
                             core::FormatRfc3339(a.fired_at), a.message);
  }
  return 0;
}

}  // namespace tally::cli
