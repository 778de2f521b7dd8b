#pragma once
// The job record as operators see it; the shapes an application meets are public
// (<spool/job.hpp>).
#include <optional>
#include <string>
#include <vector>

#include <spool/job.hpp>

#include "jobs/progress.hpp"
#include "jobs/state.hpp"

namespace spool::jobs {

// A failed attempt: when it ended (`at`) and why; when it started and on which node, where known
// (rows written before migration 9 lack them).
struct error_entry {
  int attempt = 0;
  time_point at;
  std::string message;
  std::optional<time_point> started_at = {};
  std::string node = {};
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
  std::optional<std::string> result;  // completed: what the handler returned (JSON text), if any
  std::optional<jobs::progress> progress;  // running: the attempt's latest stored report, if any
  std::vector<job_id> depends_on;  // the jobs it waits or waited for (new_job::depends_on, needs)
};

}  // namespace spool::jobs
