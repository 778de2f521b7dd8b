#pragma once
// The JSON face of stored results and profiles, shared by `spool activities|profiles show --json`
// and the admin API, so both say the same thing.
#include <boost/json/object.hpp>

#include "kinds/ai/results_store.hpp"

namespace spool::kinds::ai {

boost::json::object to_json(const activity_result& r);
boost::json::object to_json(const profile_record& p);

}  // namespace spool::kinds::ai
