#pragma once
// Cross-node wake-ups on PostgreSQL: one LISTEN connection per node (plain libpq, non-blocking),
// whose socket the io_context watches, so no thread waits on it. Every enqueue NOTIFYs its queue
// (notify_channel); the listener hands the queue name to a callback. A lost connection is
// reopened with backoff; `on_connected` runs after each (re)connect, because notifications sent
// while it was down are lost and the node should look for work once.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace spool::store {

class pg_listener {
 public:
  struct handlers {
    std::function<void(std::string_view payload)> notified;
    std::function<void()> connected;
    std::function<void(const std::string& error, std::chrono::milliseconds retry_in)> failed;
  };

  pg_listener(std::string url, handlers h);
  ~pg_listener();

  // Listens until stop(); never throws (failures are logged and retried).
  boost::asio::awaitable<void> run();
  // Safe from any thread; run() returns within about a second.
  void stop() { stopped_ = true; }
  bool connected() const { return connected_; }

 private:
  struct connection;
  boost::asio::awaitable<void> listen_once();

  std::string conninfo_;
  handlers on_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> connected_{false};
};

}  // namespace spool::store
