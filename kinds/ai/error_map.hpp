#pragma once
// What a failed inference call means for the job: connect failures, timeouts, 429 and 5xx are
// retryable (a Retry-After makes it a snooze, which uses up no attempt); 400, 401, 404 and the
// other 4xx are permanent, with the server's answer in the error so that an operator sees why.
#include <chrono>
#include <optional>
#include <string_view>

#include "kinds/ai/failure.hpp"
#include "jobs/outcome.hpp"

namespace spool::kinds::ai {

// The longest snooze a Retry-After can ask for; a server asking for more is retried then anyway.
inline constexpr std::chrono::seconds max_retry_after{3600};

// The class of a non-2xx HTTP status.
failure_class classify_status(unsigned status);

// A Retry-After header value: delay-seconds or an HTTP-date (RFC 9110). Nothing if malformed.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

jobs::outcome to_outcome(const inference_failure& f);

}  // namespace spool::kinds::ai
