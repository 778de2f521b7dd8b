#include "kinds/http_client/connection_pool.hpp"

#include "kinds/http_client/http_connection.hpp"

namespace spool::kinds::http_client {

connection_pool::connection_pool(std::size_t max_idle, steady::duration max_idle_time)
    : max_idle_(max_idle), max_idle_time_(max_idle_time) {}

connection_pool::~connection_pool() = default;

std::unique_ptr<http_connection> connection_pool::take(steady::time_point now) {
  std::vector<std::unique_ptr<http_connection>> expired;  // closed outside the lock
  std::unique_ptr<http_connection> found;
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty() && !found) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->parked_at() <= max_idle_time_) found = std::move(c);
      else expired.push_back(std::move(c));
    }
    // Everything older than the one found is older still.
    if (found)
      while (!idle_.empty() && now - idle_.front()->parked_at() > max_idle_time_) {
        expired.push_back(std::move(idle_.front()));
        idle_.erase(idle_.begin());
      }
  }
  return found;
}

void connection_pool::put(std::unique_ptr<http_connection> c, steady::time_point now) {
  c->park(now);
  std::unique_ptr<http_connection> dropped;
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(c));
  if (idle_.size() > max_idle_) {
    dropped = std::move(idle_.front());
    idle_.erase(idle_.begin());
  }
}

std::size_t connection_pool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace spool::kinds::http_client
