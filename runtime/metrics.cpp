#include "runtime/metrics.hpp"

#include <fmt/format.h>

#include <unordered_map>

namespace spool::runtime {

namespace {
std::atomic<std::uint64_t> next_generation{1};
}  // namespace

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

void metrics::add_source(source s) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(s));
}

void metrics::render(exposition& out) const {
  std::unique_lock lock(mutex_);
  out.family("spool_jobs_enqueued_total", "counter", "Jobs enqueued through this runtime.");
  for (auto& [key, s] : jobs_)
    out.sample("spool_jobs_enqueued_total", {{"queue", key.first}, {"kind", key.second}}, s->enqueued.load());
  // Every attempt's outcome; only outcomes that end a job in spool_jobs_finished_total, so that
  // a snoozed or interrupted attempt (or a retry) is not counted as a finished job.
  struct outcome_counter {
    const char* name;
    std::atomic<std::uint64_t> job_series::*count;
    bool final;
  };
  static constexpr outcome_counter outcomes[] = {
      {"succeeded", &job_series::succeeded, true}, {"failed", &job_series::failed, false},
      {"dead", &job_series::dead, true},           {"cancelled", &job_series::cancelled, true},
      {"snoozed", &job_series::snoozed, false},    {"interrupted", &job_series::interrupted, false}};
  for (const bool finals : {false, true}) {
    const char* family = finals ? "spool_jobs_finished_total" : "spool_job_attempts_total";
    out.family(family, "counter",
               finals ? "Jobs that reached a final state in an attempt on this node, by outcome."
                      : "Attempts that ended on this node, by outcome.");
    for (auto& [key, s] : jobs_)
      for (auto& o : outcomes)
        if (o.final || !finals)
          out.sample(family, {{"queue", key.first}, {"kind", key.second}, {"outcome", o.name}},
                     ((*s).*o.count).load());
  }
  out.family("spool_job_duration_seconds", "histogram", "How long a handler ran, per attempt.");
  for (auto& [key, s] : jobs_)
    out.sample("spool_job_duration_seconds", {{"queue", key.first}, {"kind", key.second}}, s->duration);
  out.family("spool_job_wait_seconds", "histogram", "From a job's due time to its start.");
  for (auto& [key, s] : jobs_)
    out.sample("spool_job_wait_seconds", {{"queue", key.first}, {"kind", key.second}}, s->wait);
  out.family("spool_db_operation_seconds", "histogram", "Database operations of the runtime, by operation.");
  for (auto& [op, h] : db_) out.sample("spool_db_operation_seconds", {{"op", op}}, *h);
  out.family("spool_rescued_total", "counter", "Jobs returned to the queue after their lease expired.");
  out.sample("spool_rescued_total", {}, rescued.load());
  out.family("spool_queue_notifications_total", "counter",
             "Enqueues announced by a NOTIFY (PostgreSQL) that woke a queue of this node.");
  out.sample("spool_queue_notifications_total", {}, queue_notifications.load());
  out.family("spool_jobs_pruned_total", "counter",
             "Finished jobs deleted past their retention by this node's pruner, by state.");
  const char* pruned_states[] = {"completed", "cancelled", "dead"};  // pruned()'s order
  for (int i = 0; i < 3; ++i)
    out.sample("spool_jobs_pruned_total", {{"state", pruned_states[i]}}, pruned_[i].load());
  out.family("spool_completions_rejected_total", "counter",
             "Late completions of workers that lost their lease.");
  out.sample("spool_completions_rejected_total", {}, rejected_completions.load());
  out.family("spool_io_thread_blocked_total", "counter",
             "Times a job handler held an io_context thread for over a second without awaiting.");
  out.sample("spool_io_thread_blocked_total", {}, blocked_handlers.load());
  const auto sources = sources_;
  lock.unlock();  // a source may look up series of its own
  for (auto& render : sources) render(out);
}

}  // namespace spool::runtime
