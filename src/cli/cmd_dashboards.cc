// `tally dashboards export DIR` and `tally dashboards push --grafana URL --token T`:
// the seed §8 hierarchy as Grafana dashboards (one per product from the
// template), for a PostgreSQL/TimescaleDB datasource.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "dashboards/grafana_client.h"
#include "dashboards/grafana_dashboards.h"

namespace tally::cli {
namespace {

core::Result<std::vector<dashboards::GeneratedDashboard>> Generate(const DashboardsArgs& args) {
  std::vector<model::Product> products;
  auto store = OpenStore(args.config.data_dir, /*read_only=*/true);
  if (store) {
    auto list = (*store)->ListProducts();
    if (!list) return std::unexpected(list.error());
    products = std::move(*list);
  } else if (store.error().code() != core::ErrorCode::kNotFound) {
    return std::unexpected(store.error());
  }
  dashboards::DashboardOptions options;
  options.datasource_uid = args.datasource.uid;
  options.folder_uid = args.folder_uid;
  options.time_zone = args.config.time_zone.empty() ? "UTC" : args.config.time_zone;
  return dashboards::BuildDashboards(products, options);
}

}  // namespace

int RunDashboards(const DashboardsArgs& args) {
  auto generated = Generate(args);
  if (!generated) return Fail(generated.error());
  if (args.action == "export") {
    if (auto s = dashboards::ExportDashboards(*generated, args.dir); !s) return Fail(s.error());
    std::cout << fmt::format("wrote {} dashboards to {}\n", generated->size(), args.dir);
    return 0;
  }
  if (args.grafana_url.empty() || args.token.empty()) {
    return Fail(core::Error::InvalidArgument("push needs --grafana URL and --token (or TALLY_GRAFANA_TOKEN)"));
  }
  dashboards::GrafanaClient client(args.grafana_url, args.token);
  if (auto s = dashboards::PushAll(client, *generated, args.datasource, args.folder_uid, "tally"); !s) {
    return Fail(s.error());
  }
  std::cout << fmt::format("pushed folder '{}', datasource '{}' and {} dashboards to {}\n", args.folder_uid,
                           args.datasource.uid, generated->size(), args.grafana_url);
  return 0;
}

}  // namespace tally::cli
