#pragma once
// The admin API's own resources, each adding its routes to the router.
#include <optional>

#include "http/router.hpp"
#include "jobs/state.hpp"

namespace spool::http {

void add_job_routes(router& r);       // /api/v1/jobs...
void add_bulk_routes(router& r);      // POST /api/v1/jobs/cancel, /api/v1/jobs/retry (by filter)
void add_dlq_routes(router& r);       // /api/v1/dlq...
void add_queue_routes(router& r);     // /api/v1/queues...
void add_node_routes(router& r);      // /api/v1/nodes
void add_kind_routes(router& r);      // /api/v1/kinds
void add_periodic_routes(router& r);  // /api/v1/periodic
void add_stats_routes(router& r);     // /api/v1/stats, /metrics
void add_page_routes(router& r);      // the dashboard, /api/v1/openapi.json, /healthz, /readyz

// GET /api/v1/jobs with the target's filters; `forced` overrides any state filter (the DLQ's).
boost::asio::awaitable<response> list_jobs(runtime::runtime& rt, const target& t,
                                           std::optional<jobs::state> forced);

}  // namespace spool::http
