#pragma once
// How the admin API and `spool queues list` show the queues: every queue the database knows of
// (with jobs counted, paused, or served by a live node), with its counts and its stored pause.
#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace spool::runtime {

// By name: name, counts (every state, zero where none), paused, paused_since (RFC 3339, null
// when not paused) and oldest_available_age_s (null when nothing is due). `served`: names of
// queues that live nodes serve, listed even without jobs.
std::map<std::string, boost::json::object> queues_to_json(const store::stats& counts,
                                                          const std::vector<store::paused_queue>& paused,
                                                          const std::vector<std::string>& served,
                                                          jobs::time_point now);

}  // namespace spool::runtime
