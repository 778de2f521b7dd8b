#pragma once
// How an attempt's end becomes an outcome: what the handler returned or threw, and what a
// cancel by the runtime made of it. The kind's timeout is enforced by the producer's deadline
// watcher, which cancels the job through its cancellation slot with reason `timeout`.
#include <exception>
#include <optional>

#include "jobs/handler.hpp"
#include "jobs/registry.hpp"

namespace spool::runtime {

// Why the runtime cancelled a job, so that its end can be told apart from a failure.
enum class cancel_reason : int { none = 0, operator_request = 1, shutdown = 2, timeout = 3 };

// An attempt that cannot start: no handler for its kind here, or a payload that is not a JSON
// object (parsed into `payload` otherwise).
std::optional<jobs::outcome> cannot_start(const jobs::claimed_job& job,
                                          const jobs::registry::entry* entry,
                                          boost::json::value& payload);

// What a handler's exception means: permanent_error fails permanently, anything else is a
// retryable failure.
jobs::outcome outcome_of(std::exception_ptr error);

// What a cancelled attempt amounts to: shutdown gives the attempt back, an operator cancel is
// final, a timeout is a failed attempt. A handler that finished its work anyway keeps its result.
jobs::outcome settle(jobs::outcome result, cancel_reason why, jobs::duration timeout);

}  // namespace spool::runtime
