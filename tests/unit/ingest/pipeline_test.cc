// Pipeline: acks only after a durable commit, bounded queue, group commit,
// failure isolation, drain on stop. Faults come through FaultyStore over a
// real SQLite store; interleavings are forced by its gate, never by sleeps.
#include "ingest/pipeline.h"

#include <gtest/gtest.h>

#include <future>

#include "store/sqlite/sqlite_store.h"
#include "support/events.h"
#include "support/faulty_store.h"
#include "support/temp_dir.h"

namespace tally::ingest {
namespace {

using testing::FaultyStore;
using testing::MakeBatch;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    real_ = std::move(*opened);
    faulty_ = std::make_unique<FaultyStore>(*real_);
  }

  std::int64_t Stored() { return *real_->CountEvents(model::EventKind::kLlmCall); }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> real_;
  std::unique_ptr<FaultyStore> faulty_;
};

TEST_F(PipelineTest, AcksOnlyAfterTheCommitAndCountsDuplicates) {
  Pipeline pipeline(*faulty_, {});
  faulty_->CloseGate();
  std::promise<core::Result<store::AppendStats>> done;
  ASSERT_TRUE(pipeline.Submit(MakeBatch("a", 3), [&](auto r) { done.set_value(std::move(r)); }));
  faulty_->WaitForAppends(1);
  auto fut = done.get_future();
  EXPECT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "acked before commit";
  EXPECT_EQ(Stored(), 0);
  faulty_->OpenGate();
  auto stats = fut.get();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->accepted, 3);
  EXPECT_EQ(Stored(), 3);

  std::promise<core::Result<store::AppendStats>> again;
  ASSERT_TRUE(pipeline.Submit(MakeBatch("a", 3), [&](auto r) { again.set_value(std::move(r)); }));
  auto retry = again.get_future().get();
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->accepted, 0);
  EXPECT_EQ(retry->duplicates, 3);
  EXPECT_EQ(Stored(), 3);
}

TEST_F(PipelineTest, FullQueueRefusesAtOnceWithUnavailable) {
  Pipeline pipeline(*faulty_, {.queue_events = 10, .group_events = 100});
  faulty_->CloseGate();
  std::atomic<int> acks = 0;
  ASSERT_TRUE(pipeline.Submit(MakeBatch("a", 6), [&](auto) { ++acks; }));
  faulty_->WaitForAppends(1);  // the writer holds batch a (still counted as queued)
  ASSERT_TRUE(pipeline.Submit(MakeBatch("b", 4), [&](auto) { ++acks; }));
  EXPECT_EQ(pipeline.queued_events(), 10);
  auto refused = pipeline.Submit(MakeBatch("c", 1), [&](auto) { ++acks; });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), core::ErrorCode::kUnavailable);
  faulty_->OpenGate();
  pipeline.Stop();
  EXPECT_EQ(acks.load(), 2);
  EXPECT_EQ(Stored(), 10);
  EXPECT_FALSE(*real_->HasEvent(model::EventKind::kLlmCall, "c-0"));
}

TEST_F(PipelineTest, GroupsQueuedBatchesIntoOneTransaction) {
  Pipeline pipeline(*faulty_, {.queue_events = 1000, .group_events = 1000});
  faulty_->CloseGate();
  std::atomic<int> acks = 0;
  ASSERT_TRUE(pipeline.Submit(MakeBatch("first", 1), [&](auto r) { acks += r.has_value(); }));
  faulty_->WaitForAppends(1);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pipeline.Submit(MakeBatch("g" + std::to_string(i), 2), [&](auto r) { acks += r.has_value(); }));
  }
  faulty_->OpenGate();
  pipeline.Stop();
  EXPECT_EQ(acks.load(), 6);
  auto groups = faulty_->batches_per_append();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], 1u);
  EXPECT_EQ(groups[1], 5u) << "the five waiting batches should share one commit";
  EXPECT_EQ(Stored(), 11);
}

TEST_F(PipelineTest, FailedCommitIsReportedAndNothingIsStored) {
  Pipeline pipeline(*faulty_, {});
  faulty_->FailNextAppends(1, core::Error::Unavailable("disk full"));
  std::promise<core::Result<store::AppendStats>> done;
  ASSERT_TRUE(pipeline.Submit(MakeBatch("x", 5), [&](auto r) { done.set_value(std::move(r)); }));
  auto r = done.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), core::ErrorCode::kUnavailable);
  EXPECT_EQ(Stored(), 0);
}

TEST_F(PipelineTest, RefusedBatchDoesNotFailItsGroupNeighbours) {
  Pipeline pipeline(*faulty_, {.queue_events = 1000, .group_events = 1000});
  faulty_->CloseGate();
  std::vector<std::promise<bool>> results(4);
  ASSERT_TRUE(pipeline.Submit(MakeBatch("hold", 1), [&](auto r) { results[0].set_value(r.has_value()); }));
  faulty_->WaitForAppends(1);
  faulty_->RefuseEventId("bad-1");
  ASSERT_TRUE(pipeline.Submit(MakeBatch("ok1", 2), [&](auto r) { results[1].set_value(r.has_value()); }));
  ASSERT_TRUE(pipeline.Submit(MakeBatch("bad", 2), [&](auto r) { results[2].set_value(r.has_value()); }));
  ASSERT_TRUE(pipeline.Submit(MakeBatch("ok2", 2), [&](auto r) { results[3].set_value(r.has_value()); }));
  faulty_->OpenGate();
  EXPECT_TRUE(results[1].get_future().get());
  EXPECT_FALSE(results[2].get_future().get());
  EXPECT_TRUE(results[3].get_future().get());
  EXPECT_TRUE(results[0].get_future().get());
  EXPECT_EQ(Stored(), 5);
  EXPECT_FALSE(*real_->HasEvent(model::EventKind::kLlmCall, "bad-0"));
}

TEST_F(PipelineTest, StopCommitsEverythingQueuedThenRefuses) {
  Pipeline pipeline(*faulty_, {});
  faulty_->CloseGate();
  std::atomic<int> acks = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pipeline.Submit(MakeBatch("s" + std::to_string(i), 3), [&](auto r) { acks += r.has_value(); }));
  }
  faulty_->WaitForAppends(1);
  std::thread stopper([&] { pipeline.Stop(); });
  faulty_->OpenGate();
  stopper.join();
  EXPECT_EQ(acks.load(), 4);
  EXPECT_EQ(Stored(), 12);
  auto late = pipeline.Submit(MakeBatch("late", 1), [](auto) {});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), core::ErrorCode::kUnavailable);
}

// --- several writers (Store::ConcurrentAppends) --------------------------------

// Callback order, recorded from the writer thread.
class Answers {
 public:
  Pipeline::Callback Record(std::string name, std::function<void()> also = {}) {
    return [this, name = std::move(name), also = std::move(also)](core::Result<store::AppendStats> r) {
      if (also) also();
      std::lock_guard l(mu_);
      order_.push_back(r ? name : name + " failed");
    };
  }
  std::vector<std::string> order() {
    std::lock_guard l(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> order_;
};

TEST_F(PipelineTest, WritersOverlapGroupsAndAnswerThemInTheOrderTaken) {
  Pipeline pipeline(*faulty_, {.queue_events = 1000, .group_events = 3, .writers = 2});
  Answers answers;
  faulty_->HoldEventId("a-0");
  ASSERT_TRUE(pipeline.Submit(MakeBatch("a", 3), answers.Record("a")));
  faulty_->WaitForAppends(1);
  ASSERT_TRUE(pipeline.Submit(MakeBatch("b", 3), answers.Record("b")));
  // b is stored while a is still in the store: two groups at once.
  faulty_->WaitForReturns(1);
  EXPECT_TRUE(*real_->HasEvent(model::EventKind::kLlmCall, "b-0"));
  EXPECT_FALSE(*real_->HasEvent(model::EventKind::kLlmCall, "a-0"));
  faulty_->ReleaseHeld();
  pipeline.Stop();
  // b committed first, but is answered after a, which was taken first.
  EXPECT_EQ(answers.order(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Stored(), 6);
}

TEST_F(PipelineTest, EmptyBatchIsABarrierBetweenOverlappingWriters) {
  // Three writers: lanes to spare for both the barrier and c.
  Pipeline pipeline(*faulty_, {.queue_events = 1000, .group_events = 3, .writers = 3});
  Answers answers;
  std::int64_t stored_at_barrier = -1;
  faulty_->HoldEventId("a-0");
  ASSERT_TRUE(pipeline.Submit(MakeBatch("a", 3), answers.Record("a")));
  faulty_->WaitForAppends(1);
  ASSERT_TRUE(pipeline.Submit(model::Batch{"barrier", {}},
                              answers.Record("barrier", [&] { stored_at_barrier = Stored(); })));
  ASSERT_TRUE(pipeline.Submit(MakeBatch("c", 3), answers.Record("c")));
  // Neither the barrier nor c may enter the store while a is held there.
  faulty_->ReleaseHeld();
  pipeline.Stop();
  EXPECT_EQ(answers.order(), (std::vector<std::string>{"a", "barrier", "c"}));
  EXPECT_EQ(stored_at_barrier, 3) << "the barrier must see a committed and c not yet stored";
  EXPECT_EQ(Stored(), 6);
}

TEST_F(PipelineTest, OverlappingWritersStillIsolateARefusedBatch) {
  Pipeline pipeline(*faulty_, {.queue_events = 1000, .group_events = 1000, .writers = 2});
  Answers answers;
  faulty_->CloseGate();
  ASSERT_TRUE(pipeline.Submit(MakeBatch("hold", 1), answers.Record("hold")));
  faulty_->WaitForAppends(1);
  faulty_->RefuseEventId("bad-1");
  ASSERT_TRUE(pipeline.Submit(MakeBatch("ok", 2), answers.Record("ok")));
  ASSERT_TRUE(pipeline.Submit(MakeBatch("bad", 2), answers.Record("bad")));
  faulty_->WaitForAppends(2);  // ok and bad as one group, beside hold
  faulty_->OpenGate();
  pipeline.Stop();
  EXPECT_EQ(answers.order(), (std::vector<std::string>{"hold", "ok", "bad failed"}));
  EXPECT_EQ(Stored(), 3);
}

}  // namespace
}  // namespace tally::ingest
