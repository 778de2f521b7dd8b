#pragma once
// When a producer sends its next round to the store, and how much it claims. A round commits the
// completions of finished attempts and claims new jobs into the slots they free, in one
// transaction (store::complete_and_claim). Plain code without I/O or clocks of its own:
// producer_fsm plans with it, for the producer and the simulation (tests/sim) alike.
//
// A round costs the database a fixed price (a transaction, a few statements) plus a little per
// job, so it should carry many jobs; but a job must not wait long for its round. The rule:
//  - a round carries every buffered completion and claims every free slot (when there may be
//    work), up to max_round_jobs of each;
//  - it goes at once when it would fill at least half the queue's slots, or when nothing else is
//    running (so an idle queue answers an enqueue at once);
//  - otherwise it waits at most `max_delay` for more to gather.
// A producer keeps one round in flight (two on PostgreSQL's pool of connections, where they run
// on two server backends at once): the next one fills while the current one commits, so rounds
// grow with load (group commit).
#include <chrono>
#include <optional>

namespace spool::runtime {

struct round_state {
  using time_point = std::chrono::steady_clock::time_point;
  int concurrency = 1;
  int handlers = 0;  // attempts still running; their slots are taken
  int buffered = 0;  // finished attempts waiting for their round; their slots are taken too
  int reserved = 0;  // slots that rounds in flight may fill
  time_point oldest_buffered{};  // when the first of the buffered attempts finished
  bool claiming = true;          // not paused, not shutting down
  bool may_have_work = true;     // an enqueue signal, a due time, a poll, or the last claim was full
  time_point wanted_since{};     // when may_have_work last became true
};

struct round_plan {
  bool send = false;
  int claim = 0;  // slots to claim in the round (0: completions only)
  // When not sending: the latest time to look again (nullopt: only an event can change the plan).
  std::optional<round_state::time_point> recheck_at;
};

inline constexpr std::chrono::microseconds default_max_delay{1000};
// The most jobs a round claims, and the most outcomes it commits: a round holds the database's
// write lock while it runs, and 1,000 jobs per round already cost the store little more per job
// than any larger batch (docs/benchmarks.md).
inline constexpr int max_round_jobs = 1000;

round_plan plan_round(const round_state& s, round_state::time_point now,
                      std::chrono::steady_clock::duration max_delay = default_max_delay);

}  // namespace spool::runtime
