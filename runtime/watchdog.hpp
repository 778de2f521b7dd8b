#pragma once
// Reports job handlers that block an io_context thread (a synchronous sleep, a blocking call, a
// long computation without a co_await). Such a handler starves every other coroutine queued on
// that thread, and no cancellation can reach it, so the watchdog can only tell: it logs
// `io_thread_blocked` with the job's id once per episode and counts it.
//
// How it knows: each job's coroutine runs on a `watched_executor`, which marks the calling thread
// as busy with that job while it runs one step of the coroutine (from one co_await to the next).
// The watchdog's own thread looks at those marks every threshold/4. Marking costs two relaxed
// atomic stores and a clock read per step; nothing else is added to the hot path.
#include <atomic>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "jobs/job.hpp"

namespace spool::runtime {

class watchdog;

// Runs everything through `Inner` (a job's strand), marking the thread busy with the job meanwhile.
template <class Inner>
class watched_executor {
 public:
  watched_executor(Inner inner, watchdog* dog, jobs::job_id id)
      : inner_(std::move(inner)), dog_(dog), id_(id) {}

  template <class F>
  void execute(F&& f) const;

  template <class Property>
  auto query(const Property& p) const
      -> decltype(boost::asio::query(std::declval<const Inner&>(), p)) {
    return boost::asio::query(inner_, p);
  }
  template <class Property>
  auto require(const Property& p) const -> watched_executor<
      std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(), p))>> {
    return {boost::asio::require(inner_, p), dog_, id_};
  }
  template <class Property>
  auto prefer(const Property& p) const -> watched_executor<
      std::decay_t<decltype(boost::asio::prefer(std::declval<const Inner&>(), p))>> {
    return {boost::asio::prefer(inner_, p), dog_, id_};
  }

  friend bool operator==(const watched_executor& a, const watched_executor& b) noexcept {
    return a.inner_ == b.inner_ && a.dog_ == b.dog_ && a.id_ == b.id_;
  }
  friend bool operator!=(const watched_executor& a, const watched_executor& b) noexcept {
    return !(a == b);
  }

 private:
  Inner inner_;
  watchdog* dog_;
  jobs::job_id id_;
};

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

  template <class Executor>
  watched_executor<Executor> watch(Executor inner, jobs::job_id id) {
    return {std::move(inner), this, id};
  }

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

template <class Inner>
template <class F>
void watched_executor<Inner>::execute(F&& f) const {
  inner_.execute([dog = dog_, id = id_, f = std::forward<F>(f)]() mutable {
    watchdog::busy mark(*dog, id);
    std::move(f)();
  });
}

}  // namespace spool::runtime
