#pragma once
// The http-kind workload: the runtime's cost per HTTP kind job (kinds/http) against a local
// endpoint that answers at once.
#include "bench/workloads.hpp"

namespace spool::bench {

// Drains JOBS queued jobs of an HTTP kind at --concurrency (jobs/s), then enqueues 500 more at a
// steady 100 jobs/s and measures enqueue -> request received at the endpoint (p50/p99).
run_result http_kind_workload(const options& o, const std::string& db);

}  // namespace spool::bench
