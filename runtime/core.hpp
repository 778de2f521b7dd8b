#pragma once
// What the runtime's components share. Owned by `runtime`; components hold a reference.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <string>

#include "config/config.hpp"
#include "jobs/limits.hpp"
#include "jobs/registry.hpp"
#include "persistence/db_executor.hpp"
#include "runtime/job_runner.hpp"
#include "runtime/attempt_tokens.hpp"
#include "runtime/lease_book.hpp"
#include "runtime/metrics.hpp"
#include "runtime/progress_book.hpp"
#include "runtime/watchdog.hpp"

namespace spool::runtime {

// The queues' producers as the shared parts see them. The runtime owns the producers and
// implements this; core and maintenance need no more of them.
class producer_signals {
 public:
  // Any thread. A job of `queue` is due at `due` (its producer wakes now if due already).
  virtual void notify(std::string_view queue, jobs::time_point due) = 0;
  // Any thread. Cancels the job if an attempt of it runs in this process.
  virtual void cancel(jobs::job_id id, cancel_reason why) = 0;

 protected:
  ~producer_signals() = default;
};

struct core {
  core(boost::asio::any_io_executor ex, config::settings s, jobs::registry kinds,
       store::db_executor& database, std::string worker);
  ~core();

  boost::asio::any_io_executor executor;
  config::settings settings;
  jobs::registry registry;
  store::db_executor& db;
  std::string worker_id;
  lease_book leases;
  progress_book progress;
  attempt_tokens tokens{progress};
  producer_signals* producers = nullptr;  // set by the runtime once its producers exist
  std::atomic<int> in_flight{0};
  std::atomic<std::uint64_t> committed{0};  // outcomes the producers committed
  std::atomic<bool> draining{false};         // shutdown has begun
  std::atomic<bool> leader{false};           // this node runs the maintenance work
  jobs::time_point started_at = jobs::now();
  metrics stats;
  watchdog dog{stats.blocked_handlers};  // reports job handlers that block their thread
  // Per queue, the concurrency limits (settings.limits) its claims keep: a queue's claim
  // requests point into these, which live as long as the runtime.
  std::map<std::string, std::vector<jobs::concurrency_limit>, std::less<>> queue_limits;
  std::span<const jobs::concurrency_limit> limits_for(std::string_view queue) const;

  // Validates, commits durably (group commit), then wakes the queues' producers.
  boost::asio::awaitable<std::vector<jobs::enqueue_result>> enqueue(std::vector<jobs::new_job> batch);
  // Counts and logs the follow-ups of job `parent` that a round committed with its success,
  // and wakes their queues' producers.
  void follow_ups_committed(jobs::job_id parent, std::span<const jobs::new_job> jobs,
                            std::span<const jobs::enqueue_result> results);

  jobs::duration lease() const;
  jobs::duration leader_ttl() const;
  // This node as the node registry records it.
  store::node_info node() const;
  jobs::duration poll_interval() const;
  // The policy and timeout for a kind: its registration, overridden by config.
  jobs::kind_options options_for(std::string_view kind) const;
  // Tells the producer of `queue` that a job is due at `due` (wakes it now if due already).
  void notify(std::string_view queue, jobs::time_point due);
  // Cancels a running job, whichever of this process's producers runs it.
  void cancel(jobs::job_id id, cancel_reason why);
};

// Backoff jitter needs randomness on whichever thread decides; one generator per thread.
std::mt19937_64& thread_rng();

// "host:pid:random", unique per process start.
std::string make_worker_id();

}  // namespace spool::runtime
