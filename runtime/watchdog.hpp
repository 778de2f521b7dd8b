#pragma once
// Reports job handlers that block an io_context thread (a synchronous sleep, a blocking call, a
// long computation without a co_await). Such a handler starves every other coroutine queued on
// that thread, and no cancellation can reach it, so the watchdog can only tell: it logs
// `io_thread_blocked` with the job's id once per episode and counts it.
//
// How it knows: each job's coroutine runs on a `job_executor` (job_executor.hpp), which marks the
// calling thread as busy with that job while it runs one step of the coroutine (from one
// co_await to the next).
// The watchdog's own thread looks at those marks every threshold/4. Marking costs two relaxed
// atomic stores and a clock read per step; nothing else is added to the hot path.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "jobs/job.hpp"

namespace spool::runtime {

class watchdog {
  // One per thread that ran a job step. Written only by its thread, as a seqlock: `seq` is odd
  // while the thread runs a step of job `job`, which began at `since_ns` (steady clock).
  struct slot {
    std::atomic<std::uint64_t> seq{0};
    std::atomic<jobs::job_id> job{0};
    std::atomic<std::int64_t> since_ns{0};
    int index = 0;                    // for the log: the order in which threads first ran a job
    std::int64_t reported_since = 0;  // watchdog thread only: the episode already reported
  };

 public:
  // `blocked` counts the episodes reported (the metric spool_io_thread_blocked_total).
  explicit watchdog(std::atomic<std::uint64_t>& blocked,
                    std::chrono::milliseconds threshold = std::chrono::seconds(1));
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  // Marks the calling thread busy with a job for its lifetime (nested marks keep the outer one).
  class busy {
   public:
    busy(watchdog& dog, jobs::job_id id);
    ~busy();
    busy(const busy&) = delete;
    busy& operator=(const busy&) = delete;

   private:
    slot* slot_ = nullptr;
  };

 private:
  friend class busy;
  slot* this_thread_slot();
  void run();
  void scan(std::chrono::steady_clock::time_point now);

  std::atomic<std::uint64_t>& blocked_;
  const std::chrono::milliseconds threshold_;
  const std::uint64_t generation_;
  std::mutex mutex_;  // guards slots_' shape, taken once per thread and by each scan
  std::map<std::thread::id, slot> slots_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace spool::runtime
