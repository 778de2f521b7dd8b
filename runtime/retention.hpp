#pragma once
// What the pruner deletes on one pass: plain code over the retention settings and the time.
#include <vector>

#include "config/config.hpp"
#include "persistence/store.hpp"

namespace spool::runtime {

// The prune requests of one pass at `now`: per final state, one for every queue without a
// retention of its own, and one per queue that has one; none where the retention is -1
// (kept forever). Each request asks for at most `batch` jobs.
std::vector<store::prune_request> prune_plan(const config::retention_settings& r,
                                             jobs::time_point now, int batch);

}  // namespace spool::runtime
