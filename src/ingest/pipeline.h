// Pipeline: the bounded queue between request handlers and the store, with
// one writer thread that group-commits.
//
// Guarantees:
//  - Submit never blocks. When accepting the batch would take the queue past
//    its capacity (in events) it returns `unavailable` at once and the batch
//    is not taken; the server turns that into 503 + Retry-After.
//  - A submitted batch's callback runs exactly once, on the writer thread,
//    after the transaction holding the batch committed durably (with its
//    AppendStats) or failed (with the error; nothing of the batch stored).
//  - The writer drains up to `group_events` queued events per transaction,
//    so many concurrent requests share one fsync.
//  - Up to `writers` groups are in the store at once (Store::
//    ConcurrentAppends; each on its own lane thread, the one group of a
//    single writer on the writer thread itself). Their callbacks and
//    observers still run on the writer thread, one group after the other,
//    in the order the groups were taken.
//  - An empty batch is a barrier: its callback runs when every batch taken
//    before it has been answered and before any taken after it is stored
//    (the live counters' reconciliation relies on this).
//  - If a group fails, each of its batches is retried alone, so one batch that
//    the store refuses does not fail its neighbours.
//  - Stop() stops taking batches, commits everything queued, then returns.
// Thread-safety: Submit from any thread; Stop once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/result.h"
#include "model/event.h"
#include "store/store.h"

namespace tally::ingest {

struct PipelineOptions {
  std::int64_t queue_events = 500'000;
  std::int64_t group_events = 50'000;
  int writers = 1;  // groups in the store at once (Store::ConcurrentAppends)
};

// Observations for metrics; all optional. Called on the writer thread.
struct PipelineObserver {
  std::function<void(std::int64_t events, std::int64_t batches, double commit_seconds, bool ok)> on_commit;
  // Called after a successful commit with the committed batches and their
  // stats, one per batch (live counters hook here and skip each batch's
  // duplicate_indexes, which were not stored).
  std::function<void(std::span<const model::Batch* const>, std::span<const store::AppendStats>)>
      on_committed;
};

class Pipeline {
 public:
  using Callback = std::function<void(core::Result<store::AppendStats>)>;

  Pipeline(store::Store& store, PipelineOptions options, PipelineObserver observer = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // See the guarantees above. On error the callback is not kept.
  core::Status Submit(model::Batch batch, Callback done);

  // Events queued and not yet committed.
  std::int64_t queued_events() const;
  void Stop();

 private:
  struct Item {
    model::Batch batch;
    Callback done;
  };
  // What one Append call did, for the on_commit observer.
  struct Attempt {
    std::int64_t events = 0, batches = 0;
    double seconds = 0;
    bool ok = false;
  };
  // A group on its way through the store.
  struct Flight {
    std::vector<Item> group;
    bool barrier = false;  // a lone empty batch: nothing is stored alongside it
    std::vector<core::Result<store::AppendStats>> results;  // one per item
    std::vector<Attempt> attempts;
    bool stored = false;  // guarded by mu_
    std::thread lane;
  };
  void WriterLoop();
  void Launch(std::unique_ptr<Flight> flight);
  // Appends group[begin, end); on failure each batch alone (see above).
  void Store(Flight& f, size_t begin, size_t end);
  // On the writer thread: observers, callbacks, queue accounting.
  void Land(Flight& f);

  store::Store& store_;
  const PipelineOptions options_;
  PipelineObserver observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;          // guarded by mu_
  std::int64_t queued_events_ = 0;  // guarded by mu_; includes the group being committed
  bool stopping_ = false;           // guarded by mu_
  std::deque<std::unique_ptr<Flight>> flights_;  // in the order taken; writer thread only
  std::thread writer_;
};

}  // namespace tally::ingest
