#include "kinds/ai/error_map.hpp"

#include "kinds/http_client/retry_after.hpp"

#include <algorithm>
#include <string>

namespace spool::kinds::ai {

std::string_view to_string(failure_class c) {
  switch (c) {
    case failure_class::connect: return "connect";
    case failure_class::timeout: return "timeout";
    case failure_class::network: return "network";
    case failure_class::rate_limited: return "rate_limited";
    case failure_class::server_error: return "server_error";
    case failure_class::rejected: return "rejected";
    case failure_class::bad_response: return "bad_response";
    case failure_class::bad_output: return "bad_output";
    case failure_class::cancelled: return "cancelled";
  }
  return "unknown";
}

failure_class classify_status(unsigned status) {
  if (status == 429) return failure_class::rate_limited;
  if (status == 408) return failure_class::timeout;
  if (status >= 500 && status <= 599) return failure_class::server_error;
  if (status >= 300 && status <= 499) return failure_class::rejected;  // incl. redirects: not followed
  return failure_class::bad_response;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  return http_client::parse_retry_after(value, now, max_retry_after);
}

jobs::outcome to_outcome(const inference_failure& f) {
  std::string msg = f.message;
  if (!f.body.empty()) msg += ": " + f.body;
  switch (f.kind) {
    case failure_class::rejected:
      return jobs::outcome::permanent(std::move(msg));
    case failure_class::rate_limited:
    case failure_class::server_error:
      if (f.retry_after) {
        // Retry-After: 0 would spin; one second is the smallest wait that means anything.
        const auto wait = std::clamp(*f.retry_after, std::chrono::seconds(1), max_retry_after);
        return jobs::outcome::snooze(wait);
      }
      return jobs::outcome::error(std::move(msg));
    default:
      return jobs::outcome::error(std::move(msg));
  }
}

}  // namespace spool::kinds::ai
