#pragma once
// How operators see the concurrency limits (spool stats, GET /api/v1/limits, /metrics, the
// dashboard, a job held back in `spool jobs show`): each limit with what it counts now.
#include <boost/json/array.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "jobs/job.hpp"
#include "jobs/limits.hpp"
#include "persistence/store.hpp"

namespace spool::runtime {

// settings.limits as the claim keeps them, in configuration order.
std::vector<jobs::concurrency_limit> limits_of(const config::settings& s);

// In configuration order: name, kind, queue (null when any), concurrency, partition_by (null
// when none), running (all its groups), partitions ({value: running}, partitioned limits only),
// full (a group is at its concurrency), waiting (due jobs it counts, at most 10000) and
// waiting_capped.
boost::json::array limits_to_json(std::span<const store::limit_use> use);

// Why an available job does not start: "limit kind:K is full (4 of 4 running)", for the first
// limit that counts the job and has no room in its group; nullopt when none holds it back.
std::optional<std::string> held_back(const jobs::job& j, std::span<const store::limit_use> use);
// The same for a job as just read from `s`: reads the use of the limits that count it, only when
// it waits due (on the store's thread).
std::optional<std::string> held_back(store::store& s, const jobs::job& j,
                                     std::span<const jobs::concurrency_limit> limits, jobs::time_point now);

}  // namespace spool::runtime
