#pragma once
// The JSON face of stored results and profiles, shared by `spool activities|profiles show --json`
// and the admin API, so both say the same thing.
#include <boost/json/object.hpp>

#include "persistence/results_store.hpp"

namespace spool::jobs::kinds::ai {

boost::json::object to_json(const store::activity_result& r);
boost::json::object to_json(const store::profile_record& p);

}  // namespace spool::jobs::kinds::ai
