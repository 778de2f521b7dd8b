#pragma once
// Periodic jobs, on the leader: at each due tick of a schedule (settings::periodic) it enqueues
// the schedule's job and records the tick, in one transaction (store::enqueue_periodic), so that
// a leader change, two leaders for a moment, or a restart never enqueue a tick twice. Which tick
// is due is schedule::decide's answer; this only waits and writes.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "runtime/core.hpp"
#include "schedule/periodic.hpp"

namespace spool::runtime {

class periodic_service {
 public:
  explicit periodic_service(core& c);
  // One pass: forgets removed schedules (first pass only), enqueues every due tick; returns how
  // many jobs it enqueued. Call on the leader.
  boost::asio::awaitable<std::size_t> run_once(jobs::time_point now);
  // Until stop(): a pass at each tick while this node leads.
  boost::asio::awaitable<void> run();
  void stop() { stopped_ = true; }  // any thread

  // A tick more than this late counts as missed for catch_up none (a leader change takes up to
  // leader_ttl_s to notice).
  jobs::duration grace() const;

 private:
  struct entry {
    config::periodic_settings settings;
    schedule::cron cron;
    schedule::catch_up mode;
  };
  // Enqueues the tick's job unless that tick is taken; returns whether it did.
  boost::asio::awaitable<bool> enqueue_tick(const entry& e, jobs::time_point tick, jobs::time_point now);

  core& core_;
  std::vector<entry> schedules_;
  jobs::time_point since_;  // a schedule never run counts its ticks from here
  bool forgot_ = false;     // removed schedules' rows are gone
  std::optional<jobs::time_point> next_;  // the earliest next tick the last pass found
  std::atomic<bool> stopped_{false};
};

}  // namespace spool::runtime
