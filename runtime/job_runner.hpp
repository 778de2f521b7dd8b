#pragma once
// Runs one attempt of one job and turns every way it can end into an outcome. Never throws.
// The kind's timeout is enforced by the producer's deadline watcher, which cancels the job
// through its cancellation slot with reason `timeout`.
#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "jobs/handler.hpp"
#include "jobs/registry.hpp"

namespace spool::runtime {

// Why the runtime cancelled a job, so that its end can be told apart from a failure.
enum class cancel_reason : int { none = 0, operator_request = 1, shutdown = 2, timeout = 3 };

boost::asio::awaitable<jobs::outcome> run_attempt(const jobs::claimed_job& job,
                                                  const jobs::registry::entry* entry,
                                                  jobs::duration timeout,
                                                  const jobs::job_context::log_fn& log,
                                                  const jobs::job_context::enqueue_fn& enqueue,
                                                  const std::atomic<int>& reason);

// What a cancelled attempt amounts to: shutdown gives the attempt back, an operator cancel is
// final, a timeout is a failed attempt. A handler that finished its work anyway keeps its result.
jobs::outcome settle(jobs::outcome result, cancel_reason why, jobs::duration timeout);

}  // namespace spool::runtime
