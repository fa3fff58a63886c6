// `tally sql "SELECT ..."`: one read-only statement against the data folder,
// safe while the server runs (a read-only connection; writes are refused).
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "server/handlers.h"

namespace tally::cli {
namespace {

std::string Cell(const store::SqlValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else {
          return fmt::format("{}", x);
        }
      },
      v);
}

}  // namespace

int RunSql(const SqlArgs& args) {
  auto store = OpenStore(args.config.data_dir, /*read_only=*/true);
  if (!store) return Fail(store.error());
  auto result = (*store)->Query(args.sql, args.max_rows);
  if (!result) return Fail(result.error());
  if (args.json) {
    std::cout << boost::json::serialize(server::SqlResultToJson(*result)) << "\n";
    return 0;
  }
  std::vector<size_t> width(result->columns.size());
  for (size_t c = 0; c < width.size(); ++c) width[c] = result->columns[c].size();
  for (const auto& row : result->rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Cell(row[c]).size());
  }
  auto print_row = [&](auto get) {
    for (size_t c = 0; c < width.size(); ++c) {
      std::cout << (c ? " | " : "") << fmt::format("{:<{}}", get(c), width[c]);
    }
    std::cout << "\n";
  };
  print_row([&](size_t c) { return result->columns[c]; });
  print_row([&](size_t c) { return std::string(width[c], '-'); });
  for (const auto& row : result->rows) print_row([&](size_t c) { return Cell(row[c]); });
  std::cout << "(" << result->rows.size() << " row" << (result->rows.size() == 1 ? "" : "s") << ")\n";
  return 0;
}

}  // namespace tally::cli
