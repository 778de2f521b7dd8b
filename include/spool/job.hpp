#pragma once
// The shapes a job takes where an application meets it: what it enqueues, what enqueue returns,
// and what a handler is given.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace spool::jobs {

using clock = std::chrono::system_clock;
// Persisted times have microsecond resolution; keeping that in the type avoids rounding surprises.
using time_point = std::chrono::time_point<clock, std::chrono::microseconds>;
using duration = std::chrono::microseconds;
using job_id = std::int64_t;
using lease_id = std::int64_t;

inline time_point now() { return std::chrono::time_point_cast<duration>(clock::now()); }

inline constexpr int default_max_attempts = 25;

// What becomes of a job whose parent (a job it depends on) ends dead or cancelled.
enum class parent_failure { cancel, run };

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
  // The jobs this one waits for: it is `pending` until all of them completed, then due (at run_at
  // if that is later). Ids of jobs already stored, and `needs`: positions of earlier jobs in the
  // same enqueue batch (a workflow's steps). If one of them ends dead or cancelled, this job is
  // cancelled, or runs anyway with parent_failure::run.
  std::vector<job_id> depends_on{};
  std::vector<std::size_t> needs{};
  parent_failure on_parent_failure = parent_failure::cancel;
};

struct enqueue_result {
  job_id id = 0;
  bool duplicate = false;  // the unique key is held by another job: that job's id
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
  bool has_parents = false;     // it waited for others (job_context::parent_results reads them)
  // Snoozes so far (across attempts, until an operator requeues it from the dead-letter queue),
  // and their requested delays summed: what the kind's snooze ceiling is checked against.
  int snoozes = 0;
  duration snoozed_for{0};
};

// A job that another depends on, as the dependant reads it (job_context::parent_results).
struct parent_result {
  job_id id = 0;
  std::optional<std::string> result;  // its result (JSON text), if it completed with one
};

// What cancelling or retrying a job by id found.
enum class cancel_result { not_found, cancelled, requested, already_final };
enum class retry_result { not_found, not_waiting, moved };

}  // namespace spool::jobs
