#pragma once
// Per-backend counters of the inference calls: requests, errors by class, latency, tokens. Lock-free
// to update; rendered as Prometheus text by /metrics (render_inference_metrics).
#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kinds/ai/failure.hpp"

namespace spool::kinds::ai {

// Buckets for model latencies, which run from tens of milliseconds to minutes (the runtime's
// histograms stop at 10 s).
class latency_histogram {
 public:
  static constexpr std::array<double, 12> bounds{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120};
  void observe(double seconds);
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_us_{0};
};

struct inference_metrics {
  std::atomic<std::uint64_t> requests{0};
  std::array<std::atomic<std::uint64_t>, failure_class_count> errors{};
  std::atomic<std::uint64_t> prompt_tokens{0};
  std::atomic<std::uint64_t> completion_tokens{0};
  latency_histogram latency;

  // One finished call: `failed` is its failure class, if it failed.
  void record(double seconds, std::optional<failure_class> failed,
              std::optional<std::int64_t> prompt = {}, std::optional<std::int64_t> completion = {});
  std::uint64_t errors_of(failure_class c) const {
    return errors[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }
};

// The series of one backend ("openai", "local") and model, created on first use and never freed:
// every client of that backend in the process counts into it, and /metrics renders them all.
inference_metrics& inference_metrics_for(std::string_view backend, std::string_view model);

// Every series as Prometheus text exposition format 0.0.4.
void render_inference_metrics(std::string& out);

}  // namespace spool::kinds::ai
