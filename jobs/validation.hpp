#pragma once
#include <optional>
#include <string>

#include "jobs/job.hpp"

namespace spool::jobs {

inline constexpr std::size_t max_payload_bytes = 1 << 20;

// Why a job may not be enqueued, or nothing when it may: kind and queue are names of
// [A-Za-z0-9_.:-], the payload is a JSON object of at most 1 MiB, limits are sane.
std::optional<std::string> check(const new_job& job);

}  // namespace spool::jobs
