#pragma once
// The dashboard's sign-in sessions: the operator gives the admin token once, the endpoint answers
// with a random session id in an HttpOnly cookie and keeps, server-side, until when it is valid.
// Time is passed in, so expiry is tested without waiting.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace spool::http {

// 32 bytes from the kernel's CSPRNG (getrandom), as 64 hex digits. Throws std::system_error.
std::string random_session_id();

class session_table {
 public:
  using clock = std::chrono::system_clock;
  explicit session_table(std::chrono::seconds ttl, std::size_t max_sessions = 1000)
      : ttl_(ttl), max_(max_sessions) {}

  // A new session valid until now + ttl. Expired sessions are dropped first; at the cap, the one
  // that expires soonest makes room.
  std::string open(clock::time_point now);
  bool valid(std::string_view id, clock::time_point now) const;
  void close(std::string_view id);
  std::chrono::seconds ttl() const { return ttl_; }
  std::size_t size() const;

 private:
  std::chrono::seconds ttl_;
  std::size_t max_;
  // Requests of different connections run on different threads; a sign-in or a lookup is a few
  // map operations, far from the job path.
  mutable std::mutex mutex_;
  std::unordered_map<std::string, clock::time_point> expiry_;
};

// The value of cookie `name` in a Cookie header ("a=1; spool_session=ab12"), if present.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

}  // namespace spool::http
