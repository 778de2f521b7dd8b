#pragma once
// Keep-alive connections to one HTTP server, waiting for their next request. Jobs on any
// thread take and return them; the lock guards a push or pop once per request (which takes
// milliseconds to minutes), never I/O.
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace spool::kinds::http_client {

class http_connection;

class connection_pool {
 public:
  using steady = std::chrono::steady_clock;

  // Keeps at most `max_idle` connections, each for at most `max_idle_time`: servers close idle
  // connections after a while, and each stale one taken costs a failed write and a reconnect.
  connection_pool(std::size_t max_idle, steady::duration max_idle_time);
  ~connection_pool();

  // The most recently used idle connection that is not too old, or null.
  std::unique_ptr<http_connection> take(steady::time_point now);
  // A connection whose last exchange completed and kept it alive.
  void put(std::unique_ptr<http_connection> c, steady::time_point now);
  std::size_t idle() const;

 private:
  const std::size_t max_idle_;
  const steady::duration max_idle_time_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<http_connection>> idle_;  // oldest first
};

}  // namespace spool::kinds::http_client
