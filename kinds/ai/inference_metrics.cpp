#include "kinds/ai/inference_metrics.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace spool::kinds::ai {

namespace {

struct registry {
  // Guards the map's shape only; taken when a client is made and when /metrics renders.
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<inference_metrics>> series;
};

registry& all() {
  static registry r;
  return r;
}

}  // namespace

void inference_metrics::record(double seconds, std::optional<failure_class> failed,
                               std::optional<std::int64_t> prompt,
                               std::optional<std::int64_t> completion) {
  requests.fetch_add(1, std::memory_order_relaxed);
  latency.observe(seconds);
  if (failed) errors[static_cast<std::size_t>(*failed)].fetch_add(1, std::memory_order_relaxed);
  if (prompt) prompt_tokens.fetch_add(static_cast<std::uint64_t>(*prompt), std::memory_order_relaxed);
  if (completion)
    completion_tokens.fetch_add(static_cast<std::uint64_t>(*completion), std::memory_order_relaxed);
}

inference_metrics& inference_metrics_for(std::string_view backend, std::string_view model) {
  auto& r = all();
  std::lock_guard lock(r.mutex);
  auto& slot = r.series[{std::string(backend), std::string(model)}];
  if (!slot) slot = std::make_unique<inference_metrics>();
  return *slot;
}

void render_inference_metrics(runtime::exposition& out) {
  auto& r = all();
  std::lock_guard lock(r.mutex);
  if (r.series.empty()) return;
  out.family("spool_inference_requests_total", "counter", "Calls to the inference backend, finished.");
  for (auto& [key, m] : r.series)
    out.sample("spool_inference_requests_total", {{"backend", key.first}, {"model", key.second}},
               m->requests.load(std::memory_order_relaxed));
  out.family("spool_inference_errors_total", "counter", "Failed calls to the inference backend, by class.");
  for (auto& [key, m] : r.series)
    for (std::size_t c = 0; c < failure_class_count; ++c)
      out.sample("spool_inference_errors_total",
                 {{"backend", key.first}, {"model", key.second},
                  {"class", to_string(static_cast<failure_class>(c))}},
                 m->errors[c].load(std::memory_order_relaxed));
  out.family("spool_inference_tokens_total", "counter", "Tokens the server reported, by type.");
  for (auto& [key, m] : r.series) {
    out.sample("spool_inference_tokens_total", {{"backend", key.first}, {"model", key.second}, {"type", "prompt"}},
               m->prompt_tokens.load(std::memory_order_relaxed));
    out.sample("spool_inference_tokens_total",
               {{"backend", key.first}, {"model", key.second}, {"type", "completion"}},
               m->completion_tokens.load(std::memory_order_relaxed));
  }
  out.family("spool_inference_duration_seconds", "histogram", "Time per call to the inference backend.");
  for (auto& [key, m] : r.series)
    out.sample("spool_inference_duration_seconds", {{"backend", key.first}, {"model", key.second}}, m->latency);
}

}  // namespace spool::kinds::ai
