#pragma once
// The metrics kit every layer uses: lock-free histograms and the Prometheus text exposition
// format 0.0.4 (families, samples, label escaping). Counters and gauges are plain atomics; what a
// series is and when it is created is up to its owner (runtime::metrics, the kinds' own).
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace spool::runtime {

// Bucket bounds in seconds. The sets are static, so a histogram only points at its bounds.
// Database calls and short jobs: half a millisecond to ten seconds.
inline constexpr double fast_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,   5,    10};
// Jobs: a handler's run and a job's wait, from milliseconds to an hour (kinds may run for minutes).
inline constexpr double job_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5,  5,
                                         10,    30,   60,    120,  300, 600,  1200, 1800, 3600};
// Model calls, which run from tens of milliseconds to minutes.
inline constexpr double slow_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120};

class histogram {
 public:
  explicit histogram(std::span<const double> bounds = fast_buckets);
  void observe(double seconds);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_seconds() const { return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6; }
  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket i: above bounds()[i - 1], at most bounds()[i]; i == bounds().size()
  // holds those above the last bound.
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds().size() + 1, the last +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

// A Prometheus label value with \, " and newline escaped.
std::string escape_label(std::string_view v);

// Writes the text exposition format into a string: one family header, then its samples.
//   exposition out(text);
//   out.family("spool_jobs", "gauge", "Jobs by queue and state.");
//   out.sample("spool_jobs", {{"queue", q}, {"state", "running"}}, 3);
class exposition {
 public:
  using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  explicit exposition(std::string& out) : out_(out) {}
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, labels l, double value);
  void sample(std::string_view name, labels l, std::uint64_t value);
  // name_bucket{...,le=...}, name_sum, name_count.
  void sample(std::string_view name, labels l, const histogram& h);
  std::string& text() { return out_; }

 private:
  void series(std::string_view name, std::string_view suffix, labels l, std::string_view extra_key = {},
              std::string_view extra_value = {});
  std::string& out_;
};

}  // namespace spool::runtime
