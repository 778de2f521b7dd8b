#pragma once
// One per queue: claims the queue's due jobs, runs each attempt as a coroutine with a
// cancellation slot, and commits the attempts' outcomes. Claims and completions travel together:
// each round (store::complete_and_claim) commits the buffered outcomes and claims into the slots
// they free, in one transaction; round_policy decides when a round goes and how much it claims.
// Between rounds the producer sleeps until an attempt ends, an enqueue signal, a due time or the
// fallback poll.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <memory>
#include <map>
#include <optional>
#include <vector>

#include "runtime/core.hpp"
#include "runtime/job_executor.hpp"
#include "runtime/job_runner.hpp"
#include "runtime/round_policy.hpp"

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
  boost::asio::awaitable<void> watch_deadlines();
  // Any thread:
  void notify(jobs::time_point due);
  void stop();
  void abandon();  // stop waiting for handlers that ignore cancellation
  void cancel(jobs::job_id id, cancel_reason why);
  void cancel_all(cancel_reason why);
  void pause(bool paused);  // a paused queue claims nothing; running jobs finish
  bool paused() const { return paused_; }
  int concurrency() const { return concurrency_; }
  int running() const { return running_count_; }
  bool finished() const { return finished_; }  // run() has returned

 private:
  using steady = std::chrono::steady_clock;
  // What the producer knows of a kind, looked up once: stable, read by the attempts' threads.
  struct kind_info {
    std::string_view name;  // the key of kinds_
    const jobs::registry::entry* entry = nullptr;
    jobs::kind_options options;
    job_series* series = nullptr;
  };
  // The place of one running attempt, reused by the next once this one has ended. Never moves
  // (held by unique_ptr): the attempt's executor and handler refer to it.
  struct slot {
    slot(std::size_t i, const job_strand& strand, watchdog& dog) : index(i), site(strand, dog) {}
    const std::size_t index;  // in slots_
    job_site site;
    // Written on the producer's strand while the slot is free, read by the attempt:
    jobs::claimed_job job;
    const kind_info* kind = nullptr;
    std::uint64_t serial = 0;  // which attempt holds the slot (the producer's view)
    bool busy = false;         // producer strand only
    steady::time_point started;
    std::atomic<int> reason{0};
    // On the site's strand only:
    std::uint64_t running_serial = 0;  // the attempt whose handler runs now, 0 if none
    boost::json::value payload;
    std::optional<jobs::job_context> context;
    boost::asio::cancellation_signal signal;
  };
  // An attempt's end on its way to the producer (see collect_ended): allocated when the attempt
  // ends, so that the many slots of running attempts do not carry one each.
  struct ended_attempt {
    slot* from;
    jobs::completion completion;
    ended_attempt* next = nullptr;
  };
  struct deadline {
    steady::time_point at;
    std::size_t slot;
    std::uint64_t serial;
    bool operator>(const deadline& o) const { return at > o.at; }
  };
  struct finished_attempt {
    jobs::completion completion;
    const kind_info* kind;
  };

  const kind_info& kind(const std::string& name);  // strand
  void start_claimed(std::vector<jobs::claimed_job> jobs);  // strand: one claim's jobs
  void start(jobs::claimed_job job);                 // strand; launch_started() sends them off
  void launch_started();                             // strand
  void launch(slot& s, std::uint64_t serial);         // the slot's strand
  void finish(slot& s, jobs::outcome result);         // the slot's strand
  void ended(slot& s, jobs::completion c);            // strand: the attempt's handler returned
  void collect_ended();                               // strand
  void send_round(int claim);                      // strand
  boost::asio::awaitable<void> round(int claim);   // strand
  round_state state() const;
  void poke();  // strand: wakes run() if the plan may have changed
  // An idle producer leaves its next claim with the database thread, to be made in the next
  // enqueue's transaction (db_executor::stand); anything else it must do first takes it back.
  void stand_if_idle();
  void withdraw();
  void stand_resolved();
  void wake_for_work();
  void note_due(jobs::time_point due);
  void cancel_running(slot& s, cancel_reason why);
  bool done() const;

  core& core_;
  std::string queue_;
  int concurrency_;
  strand_type strand_;
  std::deque<job_strand> job_strands_;  // the attempts' strands, taken in turn (a deque: stable)
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer deadline_timer_;
  jobs::job_context::log_fn job_log_;
  histogram& round_timing_;

  // strand only:
  std::map<std::string, kind_info, std::less<>> kinds_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::vector<std::size_t> free_slots_;
  std::vector<slot*> to_launch_;
  std::atomic<ended_attempt*> ended_{nullptr};  // newest first: a lock-free stack
  std::uint64_t serial_ = 0;
  std::vector<deadline> deadlines_;  // a min-heap, with entries of ended attempts left in
  std::vector<finished_attempt> buffer_;
  steady::time_point oldest_buffered_{};
  bool may_have_work_ = true;
  steady::time_point wanted_since_{};
  std::uint64_t wake_seq_ = 0;  // bumped by every enqueue signal
  std::optional<jobs::time_point> next_due_;
  bool refresh_due_ = true;  // ask the store for the queue's next due time in the next round
  bool refreshing_due_ = false;  // a round in flight asks for it
  int rounds_ = 0;               // in flight: one, or two on a pool of connections
  int reserved_ = 0;             // slots the rounds in flight claim into
  std::uint64_t claim_rounds_ = 0;  // claiming rounds sent so far
  bool standing_ = false;           // a standing claim is with the database thread
  bool withdrawing_ = false;
  int stand_limit_ = 0;
  bool sleeping_ = false;
  steady::time_point sleep_until_{};
  steady::time_point backoff_until_{};
  std::chrono::milliseconds backoff_{50};
  bool stopping_ = false;
  bool abandoning_ = false;

  std::atomic<bool> paused_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> running_count_{0};  // attempts started and not yet ended; written on strand
};

}  // namespace spool::runtime
