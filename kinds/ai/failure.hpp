#pragma once
// How a call to an inference backend can fail, as a value: the handlers map it to an jobs::outcome
// (error_map.hpp), the client counts it in its metrics.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace spool::kinds::ai {

enum class failure_class {
  connect,       // name resolution, TCP connect or TLS handshake failed
  timeout,       // inference.timeout_s passed before the answer was complete
  network,       // the connection broke during the exchange
  rate_limited,  // HTTP 429
  server_error,  // HTTP 5xx
  rejected,      // HTTP 4xx other than 408/429: the request itself is wrong (bad key, no model)
  bad_response,  // HTTP 200, but not an OpenAI-compatible completion
  bad_output,    // a completion, but not the JSON the handler asked for
  cancelled,     // the job was cancelled (timeout of the kind, operator, shutdown)
};

inline constexpr std::size_t failure_class_count = 9;

std::string_view to_string(failure_class c);

struct inference_failure {
  failure_class kind = failure_class::network;
  std::string message;  // what happened, naming the backend
  unsigned status = 0;  // the HTTP status, when an answer came
  std::string body;     // the answer's body (truncated), for HTTP errors
  std::optional<std::chrono::seconds> retry_after;  // the server's Retry-After, when it sent one
};

}  // namespace spool::kinds::ai
