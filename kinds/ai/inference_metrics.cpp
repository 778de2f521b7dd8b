#include "kinds/ai/inference_metrics.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>

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

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

void latency_histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(std::max(seconds, 0.0) * 1e6), std::memory_order_relaxed);
}

void latency_histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds[i],
                   cumulative);
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cumulative);
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n", name, labels,
                 static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  fmt::format_to(std::back_inserter(out), "{}_count{{{}}} {}\n", name, labels, cumulative);
}

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

void render_inference_metrics(std::string& out) {
  auto& r = all();
  std::lock_guard lock(r.mutex);
  if (r.series.empty()) return;
  auto labels = [](const auto& key) {
    return fmt::format("backend=\"{}\",model=\"{}\"", escape(key.first), escape(key.second));
  };
  out += "# HELP spool_inference_requests_total Calls to the inference backend, finished.\n"
         "# TYPE spool_inference_requests_total counter\n";
  for (auto& [key, m] : r.series)
    fmt::format_to(std::back_inserter(out), "spool_inference_requests_total{{{}}} {}\n", labels(key),
                   m->requests.load(std::memory_order_relaxed));
  out += "# HELP spool_inference_errors_total Failed calls to the inference backend, by class.\n"
         "# TYPE spool_inference_errors_total counter\n";
  for (auto& [key, m] : r.series)
    for (std::size_t c = 0; c < failure_class_count; ++c)
      fmt::format_to(std::back_inserter(out), "spool_inference_errors_total{{{},class=\"{}\"}} {}\n",
                     labels(key), to_string(static_cast<failure_class>(c)),
                     m->errors[c].load(std::memory_order_relaxed));
  out += "# HELP spool_inference_tokens_total Tokens the server reported, by type.\n"
         "# TYPE spool_inference_tokens_total counter\n";
  for (auto& [key, m] : r.series) {
    fmt::format_to(std::back_inserter(out), "spool_inference_tokens_total{{{},type=\"prompt\"}} {}\n",
                   labels(key), m->prompt_tokens.load(std::memory_order_relaxed));
    fmt::format_to(std::back_inserter(out),
                   "spool_inference_tokens_total{{{},type=\"completion\"}} {}\n", labels(key),
                   m->completion_tokens.load(std::memory_order_relaxed));
  }
  out += "# HELP spool_inference_duration_seconds Time per call to the inference backend.\n"
         "# TYPE spool_inference_duration_seconds histogram\n";
  for (auto& [key, m] : r.series)
    m->latency.render(out, "spool_inference_duration_seconds", labels(key));
}

}  // namespace spool::kinds::ai
