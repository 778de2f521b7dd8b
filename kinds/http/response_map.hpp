#pragma once
// The response contract of HTTP kinds (README, "HTTP kinds"): what one request's answer, or its
// failure, means for the job. Pure: the clock and the ceiling are arguments.
//
//   2xx                              success
//   429 or 503 with a Retry-After    snooze that long (at most max_snooze; uses no attempt)
//   other 5xx, 429/503 without one   retryable failure (the kind's backoff)
//   timeout, connection failure      retryable failure
//   other 4xx, 1xx, 3xx              permanent failure: straight to the dead-letter queue
//   a JSON body {"outcome": "retry"|"snooze"|"discard", "delay_s": N, "error": "..."} overrides
//   the status (snooze waits delay_s, capped like a Retry-After).
#include <chrono>
#include <optional>
#include <string>

#include "jobs/outcome.hpp"

namespace spool::kinds::http {

// What one request came to.
struct answer {
  enum class how { answered, timeout, connect_failed, network_failed };
  how got = how::answered;
  unsigned status = 0;
  std::optional<std::string> retry_after;  // the header's value, as sent
  std::string body;
  std::string detail;  // for failures: what went wrong ("connection refused")
};

jobs::outcome map_answer(const answer& a, std::string_view url, std::chrono::system_clock::time_point now,
                         std::chrono::seconds max_snooze);

// The first `max` bytes of a body, cut at a UTF-8 boundary, for error messages and logs.
std::string excerpt(std::string_view body, std::size_t max = 1000);

}  // namespace spool::kinds::http
