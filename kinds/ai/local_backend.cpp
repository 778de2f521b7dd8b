#include "kinds/ai/local_backend.hpp"

#include <chrono>

#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/local_analyzer.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {
double since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }
}  // namespace

local_backend::local_backend() : stats_(inference_metrics_for("local", "builtin")) {}

// Plain CPU work, no I/O: well under a millisecond for a typical activity, about 10 ms for the
// largest payload text (64 KiB of distinct words), so it runs on the job's own strand.
asio::awaitable<std::variant<activity_analysis, inference_failure>> local_backend::analyze(
    const activity& a) {
  const auto started = steady::now();
  auto result = analyze_locally(a);
  stats_.record(since(started), std::nullopt);
  co_return result;
}

asio::awaitable<std::variant<profile, inference_failure>> local_backend::summarize(
    std::string_view, std::span<const activity_result> sources) {
  const auto started = steady::now();
  auto result = profile_locally(sources);
  stats_.record(since(started), std::nullopt);
  co_return result;
}

}  // namespace spool::kinds::ai
