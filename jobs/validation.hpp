#pragma once
#include <optional>
#include <string>

#include <vector>

#include "jobs/job.hpp"
#include "jobs/registry.hpp"

namespace spool::jobs {

inline constexpr std::size_t max_payload_bytes = 1 << 20;
// The most jobs one job may wait for (depends_on and needs together): a fan-in of 10,000.
inline constexpr std::size_t max_parents = 10000;

// Why a job may not be enqueued, or nothing when it may: kind and queue are names of
// [A-Za-z0-9_.:-], the payload is a JSON object of at most 1 MiB, limits are sane.
std::optional<std::string> check(const new_job& job);

inline constexpr int max_attempts_limit = 1000;
// Why an explicit max_attempts is refused (it must be 1..1000), or nothing.
std::optional<std::string> check_max_attempts(std::int64_t n);

// Why a job is refused at enqueue by the CLI and the admin API, which know more than check():
// the queues that are served, the kinds that are registered and their payload checks.
struct rejection {
  std::string code;  // invalid_job, unknown_queue, unknown_kind, invalid_payload
  std::string message;
};
std::optional<rejection> admit(const new_job& job, const registry& kinds,
                               const std::vector<std::string>& queues);

}  // namespace spool::jobs
