#include "runtime/metrics.hpp"

#include <fmt/format.h>

#include <unordered_map>

namespace spool::runtime {

namespace {
std::atomic<std::uint64_t> next_generation{1};
}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(std::max(seconds, 0.0) * 1e6), std::memory_order_relaxed);
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep,
                   bounds[i], cumulative);
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep,
                 cumulative);
  const auto braces = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
  fmt::format_to(std::back_inserter(out), "{}_sum{} {}\n", name, braces,
                 static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  fmt::format_to(std::back_inserter(out), "{}_count{} {}\n", name, braces, cumulative);
}

void rate_window::add(std::int64_t s, bool failed) {
  auto& slot = slots_[static_cast<std::size_t>(s % seconds)];
  auto seen = slot.second.load(std::memory_order_acquire);
  if (seen != s && slot.second.compare_exchange_strong(seen, s)) {
    // First event of a new second in this slot: forget what the slot held 15 minutes ago.
    slot.finished.store(0, std::memory_order_relaxed);
    slot.failed.store(0, std::memory_order_relaxed);
  }
  slot.finished.fetch_add(1, std::memory_order_relaxed);
  if (failed) slot.failed.fetch_add(1, std::memory_order_relaxed);
}

rate_window::totals rate_window::last(std::int64_t now, int span) const {
  totals t;
  for (std::int64_t s = now - span + 1; s <= now; ++s) {
    const auto& slot = slots_[static_cast<std::size_t>(((s % seconds) + seconds) % seconds)];
    if (slot.second.load(std::memory_order_acquire) != s) continue;
    t.finished += slot.finished.load(std::memory_order_relaxed);
    t.failed += slot.failed.load(std::memory_order_relaxed);
  }
  return t;
}

metrics::metrics() : generation_(next_generation++) {}

job_series& metrics::series(std::string_view queue, std::string_view kind) {
  struct cache {
    std::uint64_t generation = 0;
    std::unordered_map<std::string, job_series*> by_key;
  };
  thread_local cache local;
  if (local.generation != generation_) {
    local.by_key.clear();
    local.generation = generation_;
  }
  std::string key;
  key.reserve(queue.size() + kind.size() + 1);
  key.append(queue).push_back('\0');
  key.append(kind);
  if (auto it = local.by_key.find(key); it != local.by_key.end()) return *it->second;
  std::lock_guard lock(mutex_);
  auto& slot = jobs_[{std::string(queue), std::string(kind)}];
  if (!slot) slot = std::make_unique<job_series>();
  local.by_key.emplace(std::move(key), slot.get());
  return *slot;
}

histogram& metrics::db_operation(std::string_view op) {
  std::lock_guard lock(mutex_);
  auto it = db_.find(op);
  if (it == db_.end()) it = db_.emplace(std::string(op), std::make_unique<histogram>()).first;
  return *it->second;
}

const histogram* metrics::find_db_operation(std::string_view op) const {
  std::lock_guard lock(mutex_);
  auto it = db_.find(op);
  return it == db_.end() ? nullptr : it->second.get();
}

void metrics::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  auto labels = [](const auto& key) {
    return fmt::format("queue=\"{}\",kind=\"{}\"", escape_label(key.first), escape_label(key.second));
  };
  out += "# HELP spool_jobs_enqueued_total Jobs enqueued through this runtime.\n"
         "# TYPE spool_jobs_enqueued_total counter\n";
  for (auto& [key, s] : jobs_)
    fmt::format_to(std::back_inserter(out), "spool_jobs_enqueued_total{{{}}} {}\n", labels(key),
                   s->enqueued.load());
  out += "# HELP spool_jobs_finished_total Attempts that ended, by outcome.\n"
         "# TYPE spool_jobs_finished_total counter\n";
  for (auto& [key, s] : jobs_) {
    const std::pair<const char*, const std::atomic<std::uint64_t>*> outcomes[] = {
        {"succeeded", &s->succeeded}, {"failed", &s->failed},       {"dead", &s->dead},
        {"cancelled", &s->cancelled}, {"snoozed", &s->snoozed},     {"interrupted", &s->interrupted}};
    for (auto& [name, v] : outcomes)
      fmt::format_to(std::back_inserter(out), "spool_jobs_finished_total{{{},outcome=\"{}\"}} {}\n",
                     labels(key), name, v->load());
  }
  out += "# HELP spool_job_duration_seconds How long a handler ran, per attempt.\n"
         "# TYPE spool_job_duration_seconds histogram\n";
  for (auto& [key, s] : jobs_) s->duration.render(out, "spool_job_duration_seconds", labels(key));
  out += "# HELP spool_job_wait_seconds From a job's due time to its start.\n"
         "# TYPE spool_job_wait_seconds histogram\n";
  for (auto& [key, s] : jobs_) s->wait.render(out, "spool_job_wait_seconds", labels(key));
  out += "# HELP spool_db_operation_seconds Database operations of the runtime, by operation.\n"
         "# TYPE spool_db_operation_seconds histogram\n";
  for (auto& [op, h] : db_)
    h->render(out, "spool_db_operation_seconds", fmt::format("op=\"{}\"", escape_label(op)));
  fmt::format_to(std::back_inserter(out),
                 "# HELP spool_rescued_total Jobs returned to the queue after their lease expired.\n"
                 "# TYPE spool_rescued_total counter\nspool_rescued_total {}\n"
                 "# HELP spool_completions_rejected_total Late completions of workers that lost "
                 "their lease.\n# TYPE spool_completions_rejected_total counter\n"
                 "spool_completions_rejected_total {}\n"
                 "# HELP spool_io_thread_blocked_total Times a job handler held an io_context "
                 "thread for over a second without awaiting.\n"
                 "# TYPE spool_io_thread_blocked_total counter\n"
                 "spool_io_thread_blocked_total {}\n",
                 rescued.load(), rejected_completions.load(), blocked_handlers.load());
}

}  // namespace spool::runtime
