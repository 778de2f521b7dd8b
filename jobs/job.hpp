#pragma once
// The job record and the shapes it takes on its way through the store.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobs/state.hpp"

namespace spool::jobs {

using clock = std::chrono::system_clock;
// Persisted times have microsecond resolution; keeping that in the type avoids rounding surprises.
using time_point = std::chrono::time_point<clock, std::chrono::microseconds>;
using duration = std::chrono::microseconds;
using job_id = std::int64_t;
using lease_id = std::int64_t;

inline time_point now() { return std::chrono::time_point_cast<duration>(clock::now()); }

inline constexpr int default_max_attempts = 25;

struct error_entry {
  int attempt = 0;
  time_point at;
  std::string message;
};

// What a producer of work hands to enqueue.
struct new_job {
  std::string kind;
  std::string queue = "default";
  std::string payload = "{}";  // a JSON object, validated before it reaches the store
  int priority = 0;            // lower runs first
  std::optional<time_point> run_at{};
  int max_attempts = 0;  // 0: the kind's policy decides
  std::optional<std::string> unique_key{};
  // The states in which the key is held (bits of jobs::unique_bit, jobs/unique.hpp); by default
  // scheduled, available, running and retrying.
  unsigned unique_states = 0b1111;
  duration unique_for{0};  // > 0: a completed job holds its key this long after it finished
};

struct enqueue_result {
  job_id id = 0;
  bool duplicate = false;  // the unique key is held by another job: that job's id
};

// A job as operators see it.
struct job {
  job_id id = 0;
  std::string kind;
  std::string queue;
  std::string payload;
  int priority = 0;
  state st = state::available;
  int attempt = 0;
  int max_attempts = 0;  // 0: the kind's policy decides
  std::optional<std::string> unique_key;
  time_point created_at;
  std::optional<time_point> run_at;  // set while the job waits in the ready set
  std::optional<time_point> attempted_at;
  std::optional<time_point> finalized_at;
  std::optional<time_point> lease_until;
  std::string worker;
  std::string note;  // why a job was cancelled, or its last error when dead
  std::vector<error_entry> errors;
};

// A job handed to a worker by a claim: everything a handler and the completion need.
struct claimed_job {
  job_id id = 0;
  std::string kind;
  std::string queue;
  std::string payload;
  int priority = 0;
  int attempt = 0;  // this attempt, 1-based
  int max_attempts = 0;
  time_point run_at;  // when it became due
  time_point created_at;
  lease_id lease = 0;
};

}  // namespace spool::jobs
