// `tally ingest FILE...`: backfill through the same parsing and validation as
// the HTTP API, committed in batches straight into the data folder. A batch
// with an invalid event stops the run with every problem listed (the batches
// before it stay stored); re-running skips what is already stored, because
// every event has an idempotency key.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "ingest/body_parser.h"
#include "ingest/csv_reader.h"
#include "model/validate.h"

namespace tally::cli {
namespace {

core::Result<model::EventKind> TableForFile(const std::string& path, const std::string& flag) {
  if (!flag.empty()) return model::ParseTableName(flag);
  std::string stem = std::filesystem::path(path).filename().string();
  for (int k = 0; k < model::kEventKindCount; ++k) {
    auto kind = static_cast<model::EventKind>(k);
    if (stem.rfind(std::string(model::TableName(kind)), 0) == 0) return kind;
  }
  return std::unexpected(core::Error::InvalidArgument(fmt::format(
      "cannot tell the table of '{}' from its name; pass --table (llm_calls, revenue_events, task_events, "
      "infra_costs, growth_events, ops_events)",
      path)));
}

core::Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(core::Error::NotFound(fmt::format("cannot open '{}'", path)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Progress(const std::string& file, size_t done, size_t total, bool tty) {
  if (!tty) return;
  int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::cerr << fmt::format("\r{:<30.30} [{}{}] {}/{}", file, std::string(filled, '#'),
                           std::string(width - filled, '.'), done, total)
            << std::flush;
}

}  // namespace

int RunIngest(const IngestArgs& args) {
  if (args.batch_events <= 0) {
    return Fail(core::Error::InvalidArgument(fmt::format("--batch must be positive, got {}", args.batch_events)));
  }
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto prices = LoadPrices(args.config);
  if (!prices) return Fail(prices.error());
  bool tty = !args.quiet && isatty(STDERR_FILENO);
  std::int64_t total_accepted = 0, total_duplicates = 0, total_read = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& file : args.files) {
    auto kind = TableForFile(file, args.table);
    if (!kind) return Fail(kind.error());
    auto text = ReadFile(file);
    if (!text) return Fail(text.error());
    auto ext = std::filesystem::path(file).extension();
    bool csv = ext == ".csv";
    // A .json file holds one JSON document (an array of events or one event); anything else is NDJSON.
    auto format = ext == ".json" ? ingest::BodyFormat::kJson : ingest::BodyFormat::kNdjson;
    auto items = csv ? ingest::ParseCsv(*text) : ingest::ParseBody(*text, format);
    if (!items) return Fail(core::Error(items.error().code(), file + ": " + items.error().message()));
    std::int64_t accepted = 0, duplicates = 0;
    for (size_t off = 0; off < items->size(); off += static_cast<size_t>(args.batch_events)) {
      size_t n = std::min(items->size() - off, static_cast<size_t>(args.batch_events));
      auto events = model::ParseEvents(*kind, std::span(items->data() + off, n), *prices);
      if (!events) {
        core::Error e = events.error();
        for (auto& d : e.mutable_details()) d.index += static_cast<std::int64_t>(off);  // file positions
        return Fail(core::Error(e.code(), fmt::format("{} (events {}..{}): {}", file, off, off + n - 1, e.message()),
                                e.details()));
      }
      model::Batch batch{"cli:ingest", std::move(*events)};
      const model::Batch* one[] = {&batch};
      auto stats = (*store)->Append(one);
      if (!stats) return Fail(stats.error());
      accepted += (*stats)[0].accepted;
      duplicates += (*stats)[0].duplicates;
      Progress(file, off + n, items->size(), tty);
    }
    if (tty) std::cerr << "\n";
    std::cout << fmt::format("{}: {} events into {}: {} stored, {} already there\n", file, items->size(),
                             model::TableName(*kind), accepted, duplicates);
    total_accepted += accepted;
    total_duplicates += duplicates;
    total_read += static_cast<std::int64_t>(items->size());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("total: {} events read, {} stored, {} duplicates skipped in {:.1f} s\n", total_read,
                           total_accepted, total_duplicates, secs);
  return 0;
}

}  // namespace tally::cli
