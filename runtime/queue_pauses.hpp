#pragma once
// Queue pause as the database holds it (store::set_paused), applied to this node's producers:
// a pause written by any node or by `spool queues pause` stops the claims of every node within
// one poll interval, and a node that starts reads it before its producers claim anything.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "runtime/core.hpp"

namespace spool::runtime {

class queue_pauses {
 public:
  // `apply(queue, paused)` pauses or resumes this node's producer of `queue` and returns true,
  // or returns false if it has none; it is called only for a queue whose state changes, with the
  // changes of one read in a row.
  using apply_fn = std::function<bool(const std::string& queue, bool paused)>;

  queue_pauses(core& c, apply_fn apply);

  // Stores the pause (durably) and applies it here at once.
  boost::asio::awaitable<void> set(std::string queue, bool paused);
  // Reads the paused queues (one statement, on the db executor) and applies them, unless set()
  // changed something here meanwhile: that read may be older than the write, and the next
  // one is not. Throws store_error.
  boost::asio::awaitable<void> sync_once();
  // sync_once() every poll interval until stop(); a failed read is logged and tried again.
  boost::asio::awaitable<void> run();
  void stop();  // any thread

  // Whether this node holds `queue` paused (as last applied).
  bool paused(const std::string& queue) const;

 private:
  void apply(const std::string& queue, bool paused);  // with mutex_ held

  core& core_;
  apply_fn apply_;
  std::atomic<bool> stopped_{false};
  // Not on a hot path: a read applied once per poll interval, and operators' pauses.
  mutable std::mutex mutex_;
  std::uint64_t epoch_ = 0;   // set() calls so far; guarded by mutex_
  std::set<std::string> paused_;  // as applied; guarded by mutex_
};

}  // namespace spool::runtime
