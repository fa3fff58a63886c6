#include "ingest/bus/bus_consumer.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <future>
#include <map>
#include <vector>

#include "ingest/bus/bus_entry.h"
#include "live/redis/redis_connection.h"

namespace tally::ingest::bus {
namespace {

using live::redis::RedisConnection;
using live::redis::Reply;

// Moves one entry to the dead-letter stream and acknowledges it, atomically.
// KEYS: dead-letter stream, stream. ARGV: group, entry id, field/value pairs.
constexpr const char* kDeadLetterScript = R"lua(
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
)lua";

std::string Text(const redisReply* r) {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) return std::string(r->str, r->len);
  return {};
}

// [id, [field, value, ...]] (fields nil when the entry was trimmed).
std::optional<BusEntry> ReadEntry(const redisReply* e) {
  if (e == nullptr || e->type != REDIS_REPLY_ARRAY || e->elements < 2) return std::nullopt;
  BusEntry entry;
  entry.id = Text(e->element[0]);
  const redisReply* f = e->element[1];
  if (f == nullptr || f->type != REDIS_REPLY_ARRAY) {
    entry.deleted = true;
    return entry;
  }
  for (size_t i = 0; i + 1 < f->elements; i += 2) {
    entry.fields.emplace_back(Text(f->element[i]), Text(f->element[i + 1]));
  }
  return entry;
}

std::vector<BusEntry> ReadEntries(const redisReply* list) {
  std::vector<BusEntry> out;
  if (list == nullptr || list->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i < list->elements; ++i) {
    if (auto e = ReadEntry(list->element[i])) out.push_back(std::move(*e));
  }
  return out;
}

// XREADGROUP's reply: [[stream, [entries]]], or nil when BLOCK timed out.
std::vector<BusEntry> ReadGroupReply(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements == 0) return {};
  const redisReply* s = r->element[0];
  if (s == nullptr || s->type != REDIS_REPLY_ARRAY || s->elements < 2) return {};
  return ReadEntries(s->element[1]);
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "tally";
  return buf;
}

}  // namespace

struct BusConsumer::Impl {
  // Stores the valid entries' events (one batch per table), waits for the
  // commit, then acknowledges every entry of the chunk; invalid entries go
  // to the dead-letter stream first.
  static core::Status Process(BusConsumer& c, const std::vector<BusEntry>& entries) {
    std::map<model::EventKind, model::Batch> batches;
    std::vector<std::string> ack;
    for (const BusEntry& entry : entries) {
      if (entry.deleted) {
        ack.push_back(entry.id);
        c.Count("deleted", 1);
        continue;
      }
      auto event = ParseBusEntry(entry, c.options_.stream, c.prices_);
      if (!event) {
        TALLY_RETURN_IF_ERROR(DeadLetter(c, entry, event.error().message()));
        continue;
      }
      model::Batch& b = batches[model::KindOf(*event)];
      if (b.events.empty()) b.source = "bus:" + c.options_.stream;
      b.events.push_back(std::move(*event));
      ack.push_back(entry.id);
    }
    std::vector<std::future<core::Result<store::AppendStats>>> done;
    for (auto& [kind, batch] : batches) {
      auto promise = std::make_shared<std::promise<core::Result<store::AppendStats>>>();
      done.push_back(promise->get_future());
      auto submitted = c.pipeline_.Submit(std::move(batch), [promise](core::Result<store::AppendStats> r) {
        promise->set_value(std::move(r));
      });
      if (!submitted) {
        // Batches already submitted still commit (their callbacks own the
        // promises); the whole chunk stays pending, and those are duplicates
        // when read again.
        return std::unexpected(std::move(submitted).error());
      }
    }
    std::int64_t stored = 0, duplicates = 0;
    for (auto& f : done) {
      auto stats = f.get();
      if (!stats) return std::unexpected(std::move(stats).error());
      stored += stats->accepted;
      duplicates += stats->duplicates;
    }
    if (!ack.empty()) {
      std::vector<std::string> argv{"XACK", c.options_.stream, c.options_.group};
      argv.insert(argv.end(), ack.begin(), ack.end());
      TALLY_TRY(c.redis_->Command(argv));
    }
    c.Count("stored", stored);
    c.Count("duplicate", duplicates);
    return core::OkStatus();
  }

  static core::Status DeadLetter(BusConsumer& c, const BusEntry& entry, const std::string& reason) {
    spdlog::warn("bus: entry {} of {} moved to {}: {}", entry.id, c.options_.stream,
                 c.options_.dead_letter_stream, reason);
    std::vector<std::string> argv{"EVAL", kDeadLetterScript, "2", c.options_.dead_letter_stream,
                                  c.options_.stream, c.options_.group, entry.id,
                                  "dead_letter_reason", reason, "dead_letter_source_id", entry.id,
                                  "dead_letter_consumer", c.options_.consumer};
    for (const auto& [k, v] : entry.fields) {
      argv.push_back(k);
      argv.push_back(v);
    }
    TALLY_TRY(c.redis_->Command(argv));
    c.Count("dead_letter", 1);
    return core::OkStatus();
  }

  static core::Status EnsureGroup(BusConsumer& c) {
    auto r = c.redis_->Command(
        {"XGROUP", "CREATE", c.options_.stream, c.options_.group, "0", "MKSTREAM"});
    if (!r && r.error().message().find("BUSYGROUP") == std::string::npos) {
      return std::unexpected(std::move(r).error());
    }
    return core::OkStatus();
  }
};

core::Result<std::unique_ptr<BusConsumer>> BusConsumer::Start(BusOptions options, Pipeline& pipeline,
                                                              const model::PriceTable& prices,
                                                              BusObserver observer) {
  if (options.stream.empty() || options.group.empty()) {
    return std::unexpected(core::Error::InvalidArgument("bus: stream and group must not be empty"));
  }
  if (options.consumer.empty()) options.consumer = HostName();
  if (options.dead_letter_stream.empty()) options.dead_letter_stream = options.stream + ":dead";
  if (options.batch <= 0) options.batch = 500;
  auto url = TALLY_TRY(live::redis::ParseRedisUrl(options.redis_url));
  RedisConnection::Options ro;
  ro.url = url;
  ro.pool_size = 2;
  ro.command_timeout = options.block + std::chrono::milliseconds(2000);
  auto redis = TALLY_TRY(RedisConnection::Connect(ro));
  std::unique_ptr<BusConsumer> c(
      new BusConsumer(std::move(options), pipeline, prices, std::move(observer), std::move(redis)));
  TALLY_RETURN_IF_ERROR(Impl::EnsureGroup(*c));
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  return c;
}

BusConsumer::BusConsumer(BusOptions options, Pipeline& pipeline, const model::PriceTable& prices,
                         BusObserver observer, std::unique_ptr<RedisConnection> redis)
    : options_(std::move(options)),
      pipeline_(pipeline),
      prices_(prices),
      observer_(std::move(observer)),
      redis_(std::move(redis)) {}

BusConsumer::~BusConsumer() { Stop(); }

void BusConsumer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BusConsumer::Count(std::string_view outcome, std::int64_t n) const {
  if (observer_ && n > 0) observer_(outcome, n);
}

bool BusConsumer::WaitFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

void BusConsumer::Run() {
  const std::string count = std::to_string(options_.batch);
  const std::string block = std::to_string(options_.block.count());
  const std::string idle = std::to_string(options_.claim_idle.count());
  // Claims run every half claim_idle: an entry of a dead consumer waits at
  // most 1.5 x claim_idle.
  const auto claim_every = std::max(options_.claim_idle / 2, std::chrono::milliseconds(100));
  bool own_pending = true;  // first: what this consumer read before a restart
  std::string claim_cursor = "0-0";
  auto next_claim = std::chrono::steady_clock::now();
  std::chrono::milliseconds backoff{100};
  spdlog::info("bus: consuming {} as {}/{} (dead letters to {})", options_.stream, options_.group,
               options_.consumer, options_.dead_letter_stream);
  while (!stopping_) {
    std::vector<BusEntry> entries;
    core::Status status = core::OkStatus();
    if (own_pending) {
      auto r = redis_->Command({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count,
                                "STREAMS", options_.stream, "0"});
      if (r) {
        entries = ReadGroupReply(r->get());
        if (entries.empty()) own_pending = false;
      } else {
        status = std::unexpected(std::move(r).error());
      }
    } else if (std::chrono::steady_clock::now() >= next_claim) {
      auto r = redis_->Command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer, idle,
                                claim_cursor, "COUNT", count});
      if (r) {
        const redisReply* top = r->get();
        if (top != nullptr && top->type == REDIS_REPLY_ARRAY && top->elements >= 2) {
          claim_cursor = Text(top->element[0]);
          entries = ReadEntries(top->element[1]);
          Count("claimed", static_cast<std::int64_t>(entries.size()));
        }
        if (claim_cursor.empty() || claim_cursor == "0-0") {
          claim_cursor = "0-0";
          next_claim = std::chrono::steady_clock::now() + claim_every;
        }
      } else {
        status = std::unexpected(std::move(r).error());
      }
    } else {
      auto r = redis_->Command({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count,
                                "BLOCK", block, "STREAMS", options_.stream, ">"});
      if (r) {
        entries = ReadGroupReply(r->get());
      } else {
        status = std::unexpected(std::move(r).error());
      }
    }
    if (status && !entries.empty()) status = Impl::Process(*this, entries);
    if (!status) {
      const std::string& message = status.error().message();
      if (message.find("NOGROUP") != std::string::npos) (void)Impl::EnsureGroup(*this);
      spdlog::warn("bus: {} (retrying in {} ms)", status.error().ToString(), backoff.count());
      Count("error", 1);
      own_pending = true;  // whatever was read stays pending: read it again
      if (!WaitFor(backoff)) break;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
  }
}

}  // namespace tally::ingest::bus
