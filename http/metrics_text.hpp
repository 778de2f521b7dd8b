#pragma once
#include <string>

#include "persistence/store.hpp"

namespace spool::runtime {
class runtime;
}

namespace spool::http {

// The whole /metrics page: the runtime's counters and histograms, job gauges from `counts`,
// build info and process metrics, in Prometheus text format 0.0.4.
std::string render_metrics(const runtime::runtime& rt, const store::stats& counts);

}  // namespace spool::http
