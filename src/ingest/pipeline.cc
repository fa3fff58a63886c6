#include "ingest/pipeline.h"

#include <chrono>

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
  std::vector<Item> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      std::int64_t events = 0;
      while (!queue_.empty() &&
             (group.empty() || events + static_cast<std::int64_t>(queue_.front().batch.events.size()) <=
                                   options_.group_events)) {
        events += static_cast<std::int64_t>(queue_.front().batch.events.size());
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    std::int64_t done_events = 0;
    for (const Item& item : group) done_events += static_cast<std::int64_t>(item.batch.events.size());
    {
      std::lock_guard lock(mu_);
      queued_events_ -= done_events;
    }
    group.clear();
  }
}

void Pipeline::CommitGroup(std::vector<Item>& group) {
  std::vector<const model::Batch*> batches;
  batches.reserve(group.size());
  std::int64_t events = 0;
  for (const Item& item : group) {
    batches.push_back(&item.batch);
    events += static_cast<std::int64_t>(item.batch.events.size());
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
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (observer_.on_commit) {
    observer_.on_commit(events, static_cast<std::int64_t>(batches.size()), seconds, result.has_value());
  }
  if (result) {
    if (observer_.on_committed) observer_.on_committed(batches, *result);
    for (size_t i = 0; i < group.size(); ++i) group[i].done((*result)[i]);
    return;
  }
  if (group.size() == 1 || result.error().code() == core::ErrorCode::kUnavailable) {
    // Transient store failure (or a lone batch): every sender gets the error
    // and retries; nothing of theirs was stored.
    for (Item& item : group) item.done(std::unexpected(result.error()));
    return;
  }
  // One batch may have been refused by the store: isolate it so the others land.
  for (size_t i = 0; i < group.size(); ++i) {
    std::vector<Item> single;
    single.push_back(std::move(group[i]));
    CommitGroup(single);
    group[i] = std::move(single[0]);
  }
}

}  // namespace tally::ingest
