#pragma once
// Runs one attempt of one job: the handler raced against the kind's timeout, every way it can
// end turned into an outcome. Never throws.
#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "jobs/handler.hpp"
#include "jobs/registry.hpp"

namespace spool::runtime {

// Why the runtime cancelled a job, so that its end can be told apart from a failure.
enum class cancel_reason : int { none = 0, operator_request = 1, shutdown = 2 };

boost::asio::awaitable<jobs::outcome> run_attempt(const jobs::claimed_job& job,
                                                  const jobs::registry::entry* entry,
                                                  jobs::duration timeout,
                                                  const jobs::job_context::log_fn& log,
                                                  const jobs::job_context::enqueue_fn& enqueue,
                                                  const std::atomic<int>& reason);

}  // namespace spool::runtime
