#pragma once
// How the admin API and `spool periodic list` show the periodic schedules: each configured
// schedule with its next tick and what the database remembers of its last one.
#include <boost/json/array.hpp>
#include <vector>

#include "config/config.hpp"
#include "persistence/store.hpp"

namespace spool::runtime {

// In configuration order: name, cron, timezone, kind, queue, catch_up, next_run (RFC 3339, null
// if the expression has no more ticks), last_run and last_job_id (null before the first tick).
boost::json::array periodic_to_json(const std::vector<config::periodic_settings>& schedules,
                                    const std::vector<store::periodic_row>& rows, jobs::time_point now);

}  // namespace spool::runtime
