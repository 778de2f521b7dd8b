#pragma once
// The runtime's metrics: atomic counters and fixed-bucket histograms, rendered as Prometheus text.
// Series are created once per (queue, kind) or db operation and never freed, so the hot path only
// increments atomics; lookups go through a per-thread cache and take the registry lock only on a
// thread's first sight of a series.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace spool::runtime {

class histogram {
 public:
  static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,   5,    10};
  void observe(double seconds);
  // Prometheus lines for this histogram: name_bucket{labels,le=...}, _sum, _count.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_seconds() const { return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6; }

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

struct job_series {
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> failed{0};  // retryable failures
  std::atomic<std::uint64_t> dead{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> snoozed{0};
  std::atomic<std::uint64_t> interrupted{0};
  histogram duration;
  histogram wait;
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
  std::atomic<std::uint64_t> rejected_completions{0};
  std::atomic<std::uint64_t> blocked_handlers{0};  // io threads held by a handler (watchdog)
  rate_window rates;

  // Every series as Prometheus text exposition format 0.0.4 (without process or gauge metrics).
  void render(std::string& out) const;

 private:
  const std::uint64_t generation_;
  mutable std::mutex mutex_;  // guards the maps' shape, not the counters
  std::map<std::pair<std::string, std::string>, std::unique_ptr<job_series>> jobs_;
  std::map<std::string, std::unique_ptr<histogram>, std::less<>> db_;
};

// A Prometheus label value with \, " and newline escaped.
std::string escape_label(std::string_view v);

}  // namespace spool::runtime
