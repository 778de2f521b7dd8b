#pragma once
// The running attempts of one queue, each in a reusable slot: started on one of the queue's
// strands, decided there when its handler ends (settle, jobs::decide, log, metrics), handed back
// to the owning producer for its next round, and cancelled through the slot's cancellation
// signal (operator cancel, shutdown, the kind's timeout). Every member function but the ones
// marked otherwise runs on the owner's strand.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/core.hpp"
#include "runtime/job_executor.hpp"
#include "runtime/job_runner.hpp"

namespace spool::runtime {

class attempt_slots {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

  // What an ended attempt leaves for the next round: its decided outcome, and its kind (for
  // the logs; the name stays valid as long as the slots do).
  struct ended_attempt {
    jobs::completion completion;
    std::string_view kind;
  };

  // `ended_waiting` runs on `owner` when ended attempts wait to be collected: once for a burst
  // of them, not once each.
  attempt_slots(core& c, std::string_view queue, int concurrency, const strand_type& owner,
                std::function<void()> ended_waiting);
  ~attempt_slots();
  attempt_slots(const attempt_slots&) = delete;
  attempt_slots& operator=(const attempt_slots&) = delete;

  // Starts one claim's jobs: one post per strand, not per attempt.
  void start(std::vector<jobs::claimed_job> jobs);
  // Frees the slots of the attempts that ended, and appends their outcomes to `into` in the
  // order they ended. Returns how many.
  int collect_ended(std::vector<ended_attempt>& into);
  void cancel(jobs::job_id id, cancel_reason why);
  void cancel_all(cancel_reason why);
  // Cancels attempts that outlive their kind's timeout, until stop_watching().
  boost::asio::awaitable<void> watch_deadlines();
  void stop_watching();
  int running() const { return running_; }  // any thread: started and not yet ended

 private:
  using steady = std::chrono::steady_clock;
  // What the slots know of a kind, looked up once: stable, read by the attempts' threads.
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
    // Written on the owner's strand while the slot is free, read by the attempt:
    jobs::claimed_job job;
    const kind_info* kind = nullptr;
    std::uint64_t serial = 0;  // which attempt holds the slot (the owner's view)
    bool busy = false;         // owner's strand only
    steady::time_point started;
    std::atomic<int> reason{0};
    // On the site's strand only:
    std::uint64_t running_serial = 0;  // the attempt whose handler runs now, 0 if none
    boost::json::value payload;
    std::optional<jobs::job_context> context;
    std::vector<jobs::new_job> follow_ups;  // what the attempt enqueued (job_context::enqueue)
    jobs::job_context::progress_fn progress;  // into core::progress, noting that it reported
    std::atomic<bool> reported{false};        // the attempt reported progress
    jobs::job_context::token_fn issue_token;  // once per attempt, into `token`
    std::string token;                        // the attempt's token, if it asked for one
    jobs::job_context::parents_fn parents;    // job_context::parent_results
    boost::asio::cancellation_signal signal;
  };
  // An attempt's end on its way to the owner: allocated when the attempt ends, so that the many
  // slots of running attempts do not carry one each.
  struct ended_node {
    slot* from;
    jobs::completion completion;
    ended_node* next = nullptr;
  };
  struct deadline {
    steady::time_point at;
    std::size_t slot;
    std::uint64_t serial;
    bool operator>(const deadline& o) const { return at > o.at; }
  };

  const kind_info& kind(const std::string& name);
  void start_one(jobs::claimed_job job);
  void launch(slot& s, std::uint64_t serial);  // the slot's strand
  void finish(slot& s, jobs::outcome result);  // the slot's strand
  void cancel_running(slot& s, cancel_reason why);

  core& core_;
  std::string queue_;
  strand_type owner_;
  std::function<void()> ended_waiting_;
  std::deque<job_strand> job_strands_;  // the attempts' strands, taken in turn (a deque: stable)
  boost::asio::steady_timer deadline_timer_;
  jobs::job_context::log_fn job_log_;

  // The owner's strand only:
  std::map<std::string, kind_info, std::less<>> kinds_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::vector<std::size_t> free_slots_;
  std::vector<slot*> to_launch_;
  std::uint64_t serial_ = 0;
  std::vector<deadline> deadlines_;  // a min-heap, with entries of ended attempts left in
  bool watching_ = true;

  std::atomic<ended_node*> ended_{nullptr};  // newest first: a lock-free stack
  std::atomic<int> running_{0};              // written on the owner's strand
};

}  // namespace spool::runtime
