#pragma once
// A producer's scheduling decisions as plain code: when it sends a round and what the round asks
// for, when it leaves a standing claim with the database thread and when it takes it back, how
// long it sleeps, and when it is done. No I/O, no clock, no threads: the producer (producer.cpp)
// feeds it what happened, with the time it read, and does what it answers; the simulation
// (tests/sim) does the same in simulated time, so its thousands of seeds run these decisions.
// plan_round (round_policy.hpp) times and sizes each round from the state kept here.
//
// The producer's loop asks next() for one step at a time:
//   send_round  a round to the store: commit buffered outcomes, claim `claim` jobs, and maybe
//               ask for the queue's next due time; the machine counts it in flight at once
//   stand       leave a standing claim of `stand_limit` with the database thread (idle queue)
//   withdraw    take the standing claim back (also an event's reaction)
//   sleep       until `until` at the latest, or until an event's reaction says wake
//   done        stopped, and nothing is left in flight
// The other events answer with a reaction: whether to take the standing claim back now, and
// whether the loop's sleep should end early because its next step may have changed.
#include <chrono>
#include <cstdint>
#include <optional>

#include "jobs/job.hpp"
#include "runtime/round_policy.hpp"

namespace spool::runtime {

class producer_fsm {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  using steady_duration = std::chrono::steady_clock::duration;
  using wall_time = jobs::time_point;

  // A failed round is retried after a backoff that starts here and doubles up to the cap.
  static constexpr std::chrono::milliseconds first_backoff{50};
  static constexpr std::chrono::milliseconds max_backoff{5000};

  struct settings {
    int concurrency = 1;
    int rounds_allowed = 1;  // in flight at once (see round_policy.hpp)
    // The fallback poll, which finds jobs written by other processes. Without one, the owner
    // calls poll() on its own timer (the simulation does).
    std::optional<steady_duration> poll{};
  };

  // A round sent, and what its end is judged by.
  struct round {
    int claim = 0;               // jobs it claims (0: it commits outcomes only)
    bool want_next_due = false;  // it asks the store for the queue's next due time
    std::uint64_t claim_round = 0;   // claiming rounds numbered from 1 (0: not claiming)
    std::uint64_t wakes_before = 0;  // wake-ups counted before it was sent
  };

  enum class action { send_round, stand, withdraw, sleep, done };
  struct step {
    action what = action::sleep;
    round sent{};                      // send_round
    int stand_limit = 0;               // stand
    std::optional<steady_time> until{};  // sleep: at the latest (nullopt: until an event)
  };

  struct reaction {
    bool withdraw = false;  // take the standing claim back now
    bool wake = false;      // end the loop's sleep: ask next() again
    reaction& operator|=(reaction o) {
      withdraw |= o.withdraw;
      wake |= o.wake;
      return *this;
    }
  };

  // `now`: when the producer starts; it may have work from then on.
  producer_fsm(settings s, steady_time now);

  // The loop's next step. Every step but sleep asks for the next one at once.
  step next(steady_time now, wall_time wall_now);

  // The fallback poll came (only without settings.poll: next() polls by itself otherwise).
  reaction poll(steady_time now);
  // A job of the queue is due at `due`: an enqueue signal, a retry or snooze the producer
  // committed, a resumed queue. A due time ahead is slept towards.
  reaction job_due(wall_time due, steady_time now, wall_time wall_now);
  // The round just sent took `outcomes` of the buffered ones (fewer than buffered when a job
  // appears twice: take_batch).
  void outcomes_sent(int outcomes, steady_time now);
  // The round committed, and its `claimed` jobs start now. Call job_due first for the retries
  // and snoozes it committed: a short claim says the queue is empty only if no job came since.
  // `held_back`: a full concurrency limit kept due jobs from the claim (round_result::held_back):
  // the queue is not taken for empty, but claimed from again only once an attempt here ends (a
  // slot may be free then) or the poll comes (for slots other nodes free).
  reaction round_done(const round& r, int claimed, std::optional<wall_time> next_due,
                      steady_time now, bool held_back = false);
  // The round failed: its `returned` outcomes are buffered again, first; back off.
  reaction round_failed(const round& r, int returned, steady_time now);
  // Attempts ended; their outcomes wait for a round and their slots stay taken until then.
  reaction attempts_ended(int n, steady_time now);
  // The standing claim was made by an enqueue's transaction: its `claimed` jobs start now.
  reaction stand_made(int claimed, steady_time now);
  // The standing claim was taken back before any enqueue made it.
  reaction stand_withdrawn(steady_time now);
  reaction pause(bool paused, steady_time now);  // a paused queue claims nothing
  reaction stop();                               // claim nothing more; drain
  reaction abandon();  // stop waiting for handlers that ignore cancellation

  bool done() const;
  bool stopping() const { return stopping_; }
  int rounds_in_flight() const { return rounds_; }
  bool standing() const { return standing_; }
  int running() const { return running_; }
  int buffered() const { return buffered_; }
  bool may_have_work() const { return may_have_work_; }
  std::chrono::milliseconds backoff() const { return backoff_; }  // the next failure's
  std::optional<wall_time> next_due() const { return next_due_; }

 private:
  round_state state() const;
  round send(int claim);
  bool wake_for_work(steady_time now);  // returns whether to withdraw
  bool take_back();                      // returns whether to withdraw
  void stand_resolved();
  bool wake_sooner(steady_time now);

  settings settings_;
  bool may_have_work_ = true;
  bool held_back_ = false;  // the last claim was cut short by a full concurrency limit
  steady_time wanted_since_;  // when may_have_work_ last became true
  std::uint64_t wake_seq_ = 0;
  std::optional<steady_time> next_poll_;
  std::optional<wall_time> next_due_;
  bool refresh_due_ = true;      // ask for the next due time in the next claiming round
  bool refreshing_due_ = false;  // a round in flight asks for it
  int running_ = 0;              // attempts whose handler has not ended
  int buffered_ = 0;             // outcomes waiting for a round
  steady_time oldest_buffered_{};
  int rounds_ = 0;    // in flight
  int reserved_ = 0;  // slots that the rounds in flight and the standing claim may fill
  std::uint64_t claim_rounds_ = 0;
  bool standing_ = false;
  bool withdrawing_ = false;
  int stand_limit_ = 0;
  bool sleeping_ = false;
  steady_time sleep_until_{};
  steady_time backoff_until_{};
  std::chrono::milliseconds backoff_ = first_backoff;
  bool paused_ = false;
  bool stopping_ = false;
  bool abandoning_ = false;
};

}  // namespace spool::runtime
