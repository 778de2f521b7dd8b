#pragma once
// The Retry-After header (RFC 9110), as both the openai backend and the HTTP kinds read it.
#include <chrono>
#include <optional>
#include <string_view>

namespace spool::kinds::http_client {

// Delay-seconds or an HTTP-date, as a delay from `now`; nothing if malformed. A number too large
// for 64 bits reads as `overflow`.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now,
                                                      std::chrono::seconds overflow);

}  // namespace spool::kinds::http_client
