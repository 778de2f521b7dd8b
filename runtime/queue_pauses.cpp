#include "runtime/queue_pauses.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "runtime/log.hpp"

namespace spool::runtime {
namespace asio = boost::asio;

queue_pauses::queue_pauses(core& c, apply_fn apply) : core_(c), apply_(std::move(apply)) {}

void queue_pauses::stop() { stopped_ = true; }

bool queue_pauses::paused(const std::string& queue) const {
  std::lock_guard lock(mutex_);
  return paused_.contains(queue);
}

void queue_pauses::apply(const std::string& queue, bool paused) {
  if (paused ? !paused_.insert(queue).second : paused_.erase(queue) == 0) return;  // no change
  // Logged by the nodes that serve the queue: each of them stops (or starts) claiming from it.
  if (apply_(queue, paused)) log::info(paused ? "queue_paused" : "queue_resumed").kv("queue", queue);
}

asio::awaitable<void> queue_pauses::set(std::string queue, bool paused) {
  // Named lambda, not a temporary inside co_await: GCC 12 mis-moves captures.
  auto write = [queue, paused](store::store& s) { s.set_paused(queue, paused, jobs::now()); };
  co_await core_.db.run(std::move(write));
  std::lock_guard lock(mutex_);
  ++epoch_;
  apply(queue, paused);
}

asio::awaitable<void> queue_pauses::sync_once() {
  std::uint64_t seen = 0;
  {
    std::lock_guard lock(mutex_);
    seen = epoch_;
  }
  auto read = [](store::store& s) { return s.paused_queues(); };
  const auto rows = co_await core_.db.run(std::move(read));
  std::set<std::string> stored;
  for (const auto& row : rows) stored.insert(row.queue);
  std::lock_guard lock(mutex_);
  if (epoch_ != seen) co_return;
  std::vector<std::string> resumed;
  std::set_difference(paused_.begin(), paused_.end(), stored.begin(), stored.end(),
                      std::back_inserter(resumed));
  for (const auto& q : resumed) apply(q, false);
  for (const auto& q : stored) apply(q, true);
}

asio::awaitable<void> queue_pauses::run() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(core_.poll_interval());
  while (!stopped_) {
    // Short steps, so that stop() takes effect quickly without a cross-thread timer cancel.
    const auto until = std::chrono::steady_clock::now() + interval;
    while (!stopped_ && std::chrono::steady_clock::now() < until) {
      timer.expires_at(std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (stopped_) break;
    try {
      co_await sync_once();
    } catch (const std::exception& e) {
      log::error("pause_sync_failed").kv("error", e.what());
    }
  }
}

}  // namespace spool::runtime
