#pragma once
// The periodic services of a runtime: the lease keeper renews the leases of this process's
// running batches; the progress keeper stores its attempts' progress reports; the cancel watcher picks up cancels that other processes asked for; the
// leadership loop records this node in the registry and takes or keeps the maintenance
// leadership; on the leader only, the rescuer returns jobs whose lease expired (their worker
// died) to the retry policy, the pruner deletes finished jobs past their retention, and silent
// nodes are forgotten.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/core.hpp"

namespace spool::runtime {

class maintenance {
 public:
  explicit maintenance(core& c);
  // One rescue pass; returns how many jobs it rescued.
  boost::asio::awaitable<std::size_t> rescue_once();
  boost::asio::awaitable<void> run_lease_keeper();
  // Stores the progress reported since the last pass (progress_book), every 500 ms; returns
  // how many reports one pass stored.
  boost::asio::awaitable<std::size_t> store_progress_once();
  boost::asio::awaitable<void> run_progress_keeper();
  boost::asio::awaitable<void> run_rescuer();
  // One pass of the leader's check of pending jobs (store::settle_pending), with the rescuer.
  boost::asio::awaitable<std::int64_t> settle_pending_once();
  // One pruning pass (retention.*): deletes finished jobs past their retention in batches of
  // `batch`, one transaction each; returns how many went.
  boost::asio::awaitable<std::int64_t> prune_once(int batch = 1000);
  // Every retention.interval_s, on the leader.
  boost::asio::awaitable<void> run_pruner();
  boost::asio::awaitable<void> run_cancel_watcher();
  // One heartbeat and leadership round; returns whether this node leads.
  boost::asio::awaitable<bool> lead_once();
  boost::asio::awaitable<void> run_leadership();
  // At shutdown: gives the leadership up and leaves the registry.
  boost::asio::awaitable<void> leave();
  void stop();  // any thread

 private:
  boost::asio::awaitable<bool> sleep(jobs::duration d);  // false once stopped
  core& core_;
  std::atomic<bool> stopped_{false};
};

}  // namespace spool::runtime
