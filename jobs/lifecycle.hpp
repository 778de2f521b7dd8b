#pragma once
// The state machine of a job's life after a claim, in one place: the stores implement exactly the
// transitions decided here.
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/outcome.hpp"
#include "jobs/retry_policy.hpp"

namespace spool::jobs {

// A job's snoozes so far: how many, and their delays summed (claimed_job carries them).
struct snooze_tally {
  int count = 0;
  duration total{0};
  bool operator==(const snooze_tally&) const = default;
};

struct transition {
  enum class to {
    completed,  // -> finished (completed)
    retry,      // -> ready with run_at in the future; the attempt is consumed, an error recorded
    dead,       // -> dead_letter_jobs; the error recorded
    cancelled,  // -> finished (cancelled)
    requeue,    // -> ready, the attempt given back (snooze, shutdown)
  };
  to next = to::completed;
  time_point at;      // when the transition happens
  time_point run_at;  // retry and requeue: when the job is due again
  int attempt = 0;    // attempts used after the transition
  std::optional<error_entry> error;
  std::string note;  // cancel reason, or the error that killed a dead job
  std::string result;  // completed: the handler's result (JSON text), or empty
  // requeue after a snooze: the job's tally with this snooze, which the store records with it.
  std::optional<snooze_tally> snoozed = {};
};

std::string_view to_string(transition::to t);

// A success whose result is not JSON or is longer than `max_bytes` becomes a failed attempt
// that says so; any other outcome is returned as it is.
outcome check_result(outcome result, std::size_t max_bytes);

// The next state of a job whose attempt `attempt` (1-based) ended with `result` at `now`.
// `max_attempts` <= 0 means the policy's limit. A snooze that takes the job's tally (`so_far`,
// before it) past `ceiling` fails the attempt instead, with an error that says which limit.
transition decide(const outcome& result, int attempt, int max_attempts, const retry_policy& policy,
                  time_point now, std::mt19937_64& rng, snooze_tally so_far = {},
                  const snooze_ceiling& ceiling = {});

// Why a snooze that brings the tally to `after` is refused, or empty when `ceiling` allows it.
std::string snooze_refusal(const snooze_tally& after, const snooze_ceiling& ceiling);

// A job whose worker vanished (its lease expired): a failed attempt, so a job that kills its
// process ends in the dead-letter queue instead of crash-looping.
inline constexpr std::string_view worker_lost_message = "worker lost (lease expired)";

// One decided transition, fenced by the lease under which the job was claimed: a store applies it
// only while the job is still running under that lease.
struct completion {
  job_id id = 0;
  lease_id lease = 0;
  transition change;
  // Jobs the attempt enqueued (job_context::enqueue): only a success carries them, and a store
  // inserts them in the transaction that applies this completion, only if it applies it.
  std::vector<new_job> follow_ups = {};
};

}  // namespace spool::jobs
