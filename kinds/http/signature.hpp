#pragma once
// The signature of an HTTP kind's request: X-Spool-Signature = "v1=" + lowercase hex of
// HMAC-SHA256(secret, timestamp + "." + body), with X-Spool-Timestamp = the Unix seconds signed.
// A receiver recomputes it to know the request came from a holder of the secret, and refuses old
// timestamps to stop replays.
#include <string>
#include <string_view>

namespace spool::kinds::http {

std::string signature(std::string_view secret, std::string_view timestamp, std::string_view body);

}  // namespace spool::kinds::http
