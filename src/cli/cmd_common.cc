// Helpers shared by the subcommands: opening the store, loading prices,
// printing errors.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "store/open.h"

namespace tally::cli {

core::Result<std::unique_ptr<store::Store>> OpenStore(const std::string& data_dir, bool read_only) {
  // A postgres:// URL opens the PostgreSQL store, anything else the SQLite
  // folder (store/open.h).
  auto opened = store::Open(data_dir, read_only);
  if (!opened) return std::unexpected(opened.error());
  std::unique_ptr<store::Store> s = std::move(*opened);
  if (!read_only) TALLY_RETURN_IF_ERROR(s->Migrate());
  return s;
}

core::Result<model::PriceTable> LoadPrices(const core::Config& config) {
  model::PriceTable prices = model::PriceTable::Defaults();
  if (!config.price_table.empty()) TALLY_RETURN_IF_ERROR(prices.LoadLiteLlmFile(config.price_table));
  return prices;
}

int Fail(const core::Error& error) {
  std::cerr << "error: " << error.ToString() << "\n";
  return 1;
}

int RunMigrate(const core::Config& config) {
  auto s = OpenStore(config.data_dir);
  if (!s) return Fail(s.error());
  std::cout << "schema of " << store::RedactLocation(config.data_dir) << " is up to date\n";
  return 0;
}

}  // namespace tally::cli
