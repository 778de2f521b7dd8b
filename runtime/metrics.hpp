#pragma once
// The runtime's metrics, on the metrics kit: atomic counters and histograms, rendered as Prometheus
// text. Other layers (the kinds) add their own series as sources rendered on the same page.
// Series are created once per (queue, kind) or db operation and never freed, so the hot path only
// increments atomics; lookups go through a per-thread cache and take the registry lock only on a
// thread's first sight of a series.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/state.hpp"

#include "runtime/metrics_kit.hpp"

namespace spool::runtime {

struct job_series {
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> failed{0};  // retryable failures
  std::atomic<std::uint64_t> dead{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> snoozed{0};
  std::atomic<std::uint64_t> interrupted{0};
  histogram duration{job_buckets};
  histogram wait{job_buckets};
};

// Finished and failed attempts per second over the last 15 minutes, for /api/v1/stats.
class rate_window {
 public:
  static constexpr int seconds = 900;
  void add(std::int64_t epoch_second, bool failed);
  struct totals {
    std::uint64_t finished = 0;
    std::uint64_t failed = 0;
  };
  totals last(std::int64_t now_second, int span_seconds) const;

 private:
  struct slot {
    std::atomic<std::int64_t> second{-1};
    std::atomic<std::uint64_t> finished{0};
    std::atomic<std::uint64_t> failed{0};
  };
  std::array<slot, seconds> slots_{};
};

class metrics {
 public:
  metrics();
  job_series& series(std::string_view queue, std::string_view kind);
  histogram& db_operation(std::string_view op);
  const histogram* find_db_operation(std::string_view op) const;  // null until first observed

  std::atomic<std::uint64_t> rescued{0};
  // Enqueues announced by another connection's NOTIFY (PostgreSQL) that woke a queue of this node.
  std::atomic<std::uint64_t> queue_notifications{0};
  // Finished jobs the pruner deleted, by final state (completed, cancelled, dead).
  std::atomic<std::uint64_t>& pruned(jobs::state s) {
    return pruned_[s == jobs::state::dead ? 2 : s == jobs::state::cancelled ? 1 : 0];
  }
  std::atomic<std::uint64_t> rejected_completions{0};
  std::atomic<std::uint64_t> blocked_handlers{0};  // io threads held by a handler (watchdog)
  std::atomic<std::uint64_t> pruned_[3] = {};
  rate_window rates;

  // Series that another layer keeps (a kind's own metrics), rendered after the runtime's.
  using source = std::function<void(exposition&)>;
  void add_source(source s);

  // Every series as Prometheus text exposition format 0.0.4 (without process or gauge metrics).
  void render(exposition& out) const;

 private:
  const std::uint64_t generation_;
  mutable std::mutex mutex_;  // guards the maps' shape, not the counters
  std::map<std::pair<std::string, std::string>, std::unique_ptr<job_series>> jobs_;
  std::map<std::string, std::unique_ptr<histogram>, std::less<>> db_;
  std::vector<source> sources_;
};

}  // namespace spool::runtime
