#pragma once
// One simulated Spool process. Its steps mirror the runtime's components one for one, with the
// waiting done by simulated events instead of Asio timers and coroutines:
//   database thread  store::db_executor      one store call at a time, each taking simulated time
//   producer         runtime::producer       rounds, sleeps and wake-ups, the standing claim,
//                                            backoff and shutdown as runtime::producer_fsm (the
//                                            runtime's own machine) decides them; the model does
//                                            the store calls and the waiting it asks for
//   handlers         attempt_slots::launch   finish after a random time with a random outcome
//   deadlines        attempt_slots::watch_deadlines  cancel a job that outlives its kind's timeout
//   standing claim   db_executor::stand/withdraw: an idle producer's claim, made by the next
//                                            enqueue of a due job
//   lease keeper     maintenance::run_lease_keeper  renews the live leases every lease / 3
//   rescuer          maintenance::rescue_once  expired leases become failed attempts
//   shutdown         runtime::run's tail     stop claiming, grace, cancel, drain, exit
// Decisions are the runtime's own code: jobs::decide, runtime::settle, runtime::producer_fsm
// (with runtime::plan_round), runtime::take_batch, runtime::lease_book and the real SQLite store
// behind the fault-injecting double.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "jobs/outcome.hpp"
#include "persistence/store.hpp"
#include "runtime/job_runner.hpp"
#include "runtime/lease_book.hpp"
#include "runtime/producer_fsm.hpp"
#include "tests/sim/faulty_store.hpp"

namespace spool::sim {

class node {
 public:
  node(world& w, int index, int concurrency) : w_(w), index_(index), concurrency_(concurrency) {}

  // Starts a new process: a new worker id, nothing remembered from the last one.
  void boot();
  // The process dies at once: memory, in-flight store calls and handlers are gone.
  void crash(const std::string& why);
  // Graceful shutdown (SIGTERM): stop claiming, let jobs finish for the grace period, cancel
  // the rest (their attempts are given back), commit every completion, exit.
  void shut_down();

  // The node cannot reach the database for a while (it survives reboots: a partition).
  void cut_off(duration d);

  bool up() const { return up_; }
  bool accepting() const { return up_ && !draining_; }
  // A client's enqueue through this node. `acked` runs only if the reply reaches the client.
  void enqueue(std::vector<jobs::new_job> batch,
               std::function<void(const std::vector<store::insert_result>&)> acked,
               std::function<void()> failed);

  std::function<void()> on_down;  // after a crash or a completed shutdown

 private:
  using key = std::pair<jobs::job_id, jobs::lease_id>;
  struct attempt_run {  // an attempt in its slot (attempt_slots)
    jobs::claimed_job job;
    jobs::outcome planned;  // what the handler returns if left alone
    bool honours_cancel = true;
    runtime::cancel_reason reason = runtime::cancel_reason::none;
    bool cut_short = false;  // the handler gave up when cancelled
    bool done = false;       // the handler returned; the slot is held until the commit
    int finish_seq = 0;
  };
  struct db_call {
    std::string what;
    std::function<void(store::store&)> work;
    std::function<void(const std::string* error)> then;
  };
  enum class stage { running, grace, cancelling, draining };

  void later(duration d, std::function<void()> f);
  void say(const std::string& text);
  void go_down();

  void call(std::string what, std::function<void(store::store&)> work,
            std::function<void(const std::string* error)> then);
  void next_call();
  duration latency();

  void poll();
  void notify(time_point due);
  void react(runtime::producer_fsm::reaction r);
  void try_round();  // producer::run's loop, until it sleeps
  void recheck_at(time_point at);
  void send_round(const runtime::producer_fsm::round& r);
  void stand(int limit);
  void withdraw();
  void stand_made(const std::vector<jobs::claimed_job>& got);
  void start_claimed(const std::vector<jobs::claimed_job>& got, std::string_view how);
  void start(const jobs::claimed_job& job);
  void finish(key k, int seq);
  void cancel(key k, runtime::cancel_reason why);

  void keep_leases();
  void rescuer_loop();
  void rescue(std::function<void()> after);
  void settle_pending(std::function<void()> after);

  void cancel_all();
  void progress();

  world& w_;
  int index_;
  int concurrency_;
  int incarnation_ = 0;  // events of an earlier process are dropped
  bool up_ = false;
  bool draining_ = false;
  std::string worker_;
  std::unique_ptr<store::store> real_;
  std::unique_ptr<faulty_store> store_;
  std::unique_ptr<runtime::lease_book> leases_;
  time_point outage_until_{};

  std::deque<db_call> db_queue_;
  bool db_busy_ = false;

  std::map<key, attempt_run> running_;  // an ended attempt stays until its outcome committed
  // The producer: its decisions, the outcomes waiting for a round, and its timer (one wake-up
  // pending at a time, the earliest asked for).
  runtime::producer_fsm fsm_{{}, {}};
  std::vector<jobs::completion> buffer_;
  std::optional<time_point> recheck_at_;
  // The standing claim as the database thread holds it (db_executor::stands_).
  bool db_stand_ = false;
  int db_stand_limit_ = 0;

  stage stage_ = stage::running;
};

}  // namespace spool::sim
