#pragma once
// One per queue: claims due jobs in batches as slots free up, runs each as a coroutine on its own
// strand with a cancellation slot, and sleeps until an enqueue, a due time or the fallback poll.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "runtime/core.hpp"
#include "runtime/job_runner.hpp"

namespace spool::runtime {

class producer {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

  producer(core& c, std::string queue, int concurrency);
  const std::string& queue() const { return queue_; }
  strand_type& strand() { return strand_; }

  boost::asio::awaitable<void> run();  // on strand(); returns after stop()
  // Cancels jobs that outlive their kind's timeout; on strand(); returns once stopped and idle.
  boost::asio::awaitable<void> watch_deadlines();
  // Any thread:
  void notify(jobs::time_point due);
  void stop();
  void cancel(jobs::job_id id, cancel_reason why);
  void cancel_all(cancel_reason why);
  // The job's outcome is committed (or was rejected): its slot is free again. Slots are held
  // until then, so a crash can re-run at most `concurrency` of this node's jobs per queue.
  void committed(jobs::job_id id);
  void pause(bool paused);  // a paused queue claims nothing; running jobs finish
  bool paused() const { return paused_; }
  int concurrency() const { return concurrency_; }
  int running() const { return running_count_; }

 private:
  struct running_job {
    // Not an aggregate built with make_shared(args...): clang 14 (the sanitizer builds) lacks
    // C++20's parenthesised aggregate initialisation.
    running_job(jobs::claimed_job j, strand_type s) : job(std::move(j)), strand(std::move(s)) {}
    jobs::claimed_job job;
    strand_type strand;
    boost::asio::cancellation_signal signal;
    std::atomic<int> reason{0};
    job_series* series = nullptr;
    std::multimap<std::chrono::steady_clock::time_point, jobs::job_id>::iterator deadline;
  };
  void start(jobs::claimed_job job);       // strand
  void finished(jobs::job_id id);           // strand
  void cancel_running(const std::shared_ptr<running_job>& rj, cancel_reason why);

  core& core_;
  std::string queue_;
  int concurrency_;
  strand_type strand_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer deadline_timer_;
  std::multimap<std::chrono::steady_clock::time_point, jobs::job_id> deadlines_;  // strand only
  jobs::job_context::log_fn job_log_;
  // strand only:
  std::unordered_map<jobs::job_id, std::shared_ptr<running_job>> running_;
  bool wake_ = true;  // a claim may find work
  bool stopping_ = false;
  std::atomic<bool> paused_{false};
  std::atomic<int> running_count_{0};
  histogram& claim_timing_;
  std::optional<jobs::time_point> next_due_;
};

}  // namespace spool::runtime
