#pragma once
// Per-backend counters of the inference calls: requests, errors by class, latency, tokens, on the
// runtime's metrics kit. Lock-free to update; rendered on /metrics as a source of the runtime's
// metrics (render_inference_metrics).
#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kinds/ai/failure.hpp"
#include "runtime/metrics_kit.hpp"

namespace spool::kinds::ai {

struct inference_metrics {
  std::atomic<std::uint64_t> requests{0};
  std::array<std::atomic<std::uint64_t>, failure_class_count> errors{};
  std::atomic<std::uint64_t> prompt_tokens{0};
  std::atomic<std::uint64_t> completion_tokens{0};
  runtime::histogram latency{runtime::slow_buckets};

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

// Every series, for runtime::metrics::add_source.
void render_inference_metrics(runtime::exposition& out);

}  // namespace spool::kinds::ai
