#pragma once
// Stored times are integer microseconds since the Unix epoch.
#include "jobs/job.hpp"

namespace spool::store {

inline long long to_us(jobs::time_point t) { return t.time_since_epoch().count(); }
inline jobs::time_point from_us(long long us) { return jobs::time_point(jobs::duration(us)); }

}  // namespace spool::store
