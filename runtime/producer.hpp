#pragma once
// One per queue: claims the queue's due jobs, runs each attempt as a coroutine with a
// cancellation slot, and commits the attempts' outcomes. Claims and completions travel together:
// each round (store::complete_and_claim) commits the buffered outcomes and claims into the slots
// they free, in one transaction. What to do when is producer_fsm's to decide, in plain code; this
// class is the I/O around it: the timer it sleeps on, the rounds' store calls, the standing claim
// with the database thread, and the attempts (attempt_slots).
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <string>
#include <vector>

#include "runtime/attempt_slots.hpp"
#include "runtime/core.hpp"
#include "runtime/producer_fsm.hpp"

namespace spool::runtime {

class producer {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

  producer(core& c, std::string queue, int concurrency);
  const std::string& queue() const { return queue_; }
  strand_type& strand() { return strand_; }

  // On strand(). Runs until stopped; after stop() it claims nothing more and returns once every
  // attempt has ended and its outcome is committed (or, after abandon(), once the outcomes of
  // the attempts that did end are).
  boost::asio::awaitable<void> run();
  // Cancels attempts that outlive their kind's timeout; on strand(); returns after run() did.
  boost::asio::awaitable<void> watch_deadlines() { return slots_.watch_deadlines(); }
  // Any thread:
  void notify(jobs::time_point due);
  void stop();
  void abandon();  // stop waiting for handlers that ignore cancellation
  void cancel(jobs::job_id id, cancel_reason why);
  void cancel_all(cancel_reason why);
  void pause(bool paused);  // a paused queue claims nothing; running jobs finish
  bool paused() const { return paused_; }
  int concurrency() const { return concurrency_; }
  int running() const { return slots_.running(); }
  bool finished() const { return finished_; }  // run() has returned

 private:
  void react(producer_fsm::reaction r);  // strand
  void send_round(const producer_fsm::round& r);
  boost::asio::awaitable<void> round(producer_fsm::round r);
  void start_claimed(std::vector<jobs::claimed_job> jobs);
  void stand(int limit);
  void withdraw();
  void collect_ended();

  core& core_;
  std::string queue_;
  int concurrency_;
  strand_type strand_;
  boost::asio::steady_timer timer_;
  histogram& round_timing_;

  // strand only:
  producer_fsm fsm_;
  attempt_slots slots_;
  std::vector<attempt_slots::ended_attempt> buffer_;  // outcomes waiting for a round

  std::atomic<bool> paused_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace spool::runtime
