#pragma once
#include <chrono>
#include <cstdint>
#include <random>

#include <spool/job.hpp>

namespace spool::jobs {

// Exponential backoff with jitter: attempt n waits base * 2^(n-1), capped, then scaled by a random
// factor in [1 - jitter, 1 + jitter] (and capped again) so that a burst of failures does not retry
// in lockstep.
struct retry_policy {
  duration base = std::chrono::seconds(1);
  duration cap = std::chrono::hours(1);
  double jitter = 0.2;  // fraction, 0 <= jitter < 1
  int max_attempts = default_max_attempts;

  // The un-jittered delay after failed attempt `attempt` (1-based).
  duration nominal_delay(int attempt) const;
  // The delay with jitter drawn from `rng`.
  duration delay(int attempt, std::mt19937_64& rng) const;
};

// How far a job may put itself off: a job that snoozes more than `max_snoozes` times, or for more
// than `max_snooze_total` in all, fails the attempt instead (and follows the retry policy), so a
// backend that always answers "later" (429 with Retry-After) ends in the dead-letter queue.
struct snooze_ceiling {
  int max_snoozes = 100;
  duration max_total = std::chrono::hours(24);
};

}  // namespace spool::jobs
