#include "ingest/pipeline.h"

#include <algorithm>
#include <chrono>
#include <system_error>

namespace tally::ingest {

Pipeline::Pipeline(store::Store& store, PipelineOptions options, PipelineObserver observer)
    : store_(store), options_(options), observer_(std::move(observer)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

Pipeline::~Pipeline() { Stop(); }

core::Status Pipeline::Submit(model::Batch batch, Callback done) {
  auto n = static_cast<std::int64_t>(batch.events.size());
  {
    std::lock_guard lock(mu_);
    if (stopping_) return std::unexpected(core::Error::Unavailable("server is shutting down"));
    // A batch bigger than the whole queue is still taken when the queue is
    // empty: refusing it forever would make it impossible to send.
    if (queued_events_ > 0 && queued_events_ + n > options_.queue_events) {
      return std::unexpected(core::Error::Unavailable(
          "ingest queue is full (" + std::to_string(queued_events_) + " events waiting); retry later"));
    }
    queued_events_ += n;
    queue_.push_back(Item{std::move(batch), std::move(done)});
  }
  cv_.notify_one();
  return core::OkStatus();
}

std::int64_t Pipeline::queued_events() const {
  std::lock_guard lock(mu_);
  return queued_events_;
}

void Pipeline::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Pipeline::WriterLoop() {
  const size_t writers = static_cast<size_t>(std::max(1, options_.writers));
  for (;;) {
    std::unique_ptr<Flight> landed;
    auto next = std::make_unique<Flight>();
    {
      std::unique_lock lock(mu_);
      auto can_take = [&] {
        if (queue_.empty() || flights_.size() >= writers) return false;
        // A barrier overlaps nothing, on either side.
        return flights_.empty() || (!flights_.back()->barrier && !queue_.front().batch.events.empty());
      };
      auto front_stored = [&] { return !flights_.empty() && flights_.front()->stored; };
      cv_.wait(lock, [&] {
        return front_stored() || can_take() || (stopping_ && queue_.empty() && flights_.empty());
      });
      if (front_stored()) {
        landed = std::move(flights_.front());
        flights_.pop_front();
      } else if (can_take()) {
        std::vector<Item>& group = next->group;
        if (queue_.front().batch.events.empty()) {
          next->barrier = true;
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        std::int64_t events = 0;
        while (!next->barrier && !queue_.empty() && !queue_.front().batch.events.empty() &&
               (group.empty() || events + static_cast<std::int64_t>(queue_.front().batch.events.size()) <=
                                     options_.group_events)) {
          events += static_cast<std::int64_t>(queue_.front().batch.events.size());
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      } else {
        return;  // stopping and drained
      }
    }
    if (landed) {
      if (landed->lane.joinable()) landed->lane.join();
      Land(*landed);
    } else {
      Launch(std::move(next));
    }
  }
}

void Pipeline::Launch(std::unique_ptr<Flight> flight) {
  Flight* f = flight.get();
  // Every slot is overwritten by Store; one that were not must not ack.
  f->results.assign(f->group.size(), std::unexpected(core::Error::Internal("batch was not stored")));
  auto store = [this, f] {
    Store(*f, 0, f->group.size());
    {
      std::lock_guard lock(mu_);
      f->stored = true;
    }
    cv_.notify_all();
  };
  {
    std::lock_guard lock(mu_);
    flights_.push_back(std::move(flight));
  }
  // One writer stores on its own thread: no lane to start and join. A lane
  // that cannot be started (no threads left) stores here too.
  if (options_.writers > 1) {
    try {
      f->lane = std::thread(store);
      return;
    } catch (const std::system_error&) {
    }
  }
  store();
}

void Pipeline::Store(Flight& f, size_t begin, size_t end) {
  std::vector<const model::Batch*> batches;
  batches.reserve(end - begin);
  std::int64_t events = 0;
  for (size_t i = begin; i < end; ++i) {
    batches.push_back(&f.group[i].batch);
    events += static_cast<std::int64_t>(f.group[i].batch.events.size());
  }
  auto start = std::chrono::steady_clock::now();
  core::Result<std::vector<store::AppendStats>> result = std::unexpected(core::Error::Internal("not run"));
  try {
    result = store_.Append(batches);
  } catch (const std::exception& e) {
    // A store must not throw; if one does, its senders get an error rather
    // than a dead writer thread and requests that never answer.
    result = std::unexpected(core::Error::Internal(std::string("store append threw: ") + e.what()));
  }
  f.attempts.push_back(Attempt{events, static_cast<std::int64_t>(batches.size()),
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                               result.has_value()});
  if (result) {
    for (size_t i = begin; i < end; ++i) f.results[i] = std::move((*result)[i - begin]);
    return;
  }
  if (end - begin == 1 || result.error().code() == core::ErrorCode::kUnavailable) {
    // Transient store failure (or a lone batch): every sender gets the error
    // and retries; nothing of theirs was stored.
    for (size_t i = begin; i < end; ++i) f.results[i] = std::unexpected(result.error());
    return;
  }
  // One batch may have been refused by the store: isolate it so the others land.
  for (size_t i = begin; i < end; ++i) Store(f, i, i + 1);
}

void Pipeline::Land(Flight& f) {
  if (observer_.on_commit) {
    for (const Attempt& a : f.attempts) observer_.on_commit(a.events, a.batches, a.seconds, a.ok);
  }
  if (observer_.on_committed) {
    std::vector<const model::Batch*> batches;
    std::vector<store::AppendStats> stats;
    for (size_t i = 0; i < f.group.size(); ++i) {
      if (!f.results[i]) continue;
      batches.push_back(&f.group[i].batch);
      stats.push_back(*f.results[i]);
    }
    if (!batches.empty()) observer_.on_committed(batches, stats);
  }
  std::int64_t events = 0;
  for (size_t i = 0; i < f.group.size(); ++i) {
    events += static_cast<std::int64_t>(f.group[i].batch.events.size());
    f.group[i].done(std::move(f.results[i]));
  }
  std::lock_guard lock(mu_);
  queued_events_ -= events;
}

}  // namespace tally::ingest
