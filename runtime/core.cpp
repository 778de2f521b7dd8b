#include "runtime/core.hpp"

#include "runtime/limits_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <span>
#include <stdexcept>

#include "jobs/validation.hpp"
#include "runtime/log.hpp"

namespace spool::runtime {

namespace {
jobs::duration seconds(double s) {
  return std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(s));
}
}  // namespace

core::core(boost::asio::any_io_executor ex, config::settings s, jobs::registry kinds,
           store::db_executor& database, std::string worker)
    : executor(std::move(ex)),
      settings(std::move(s)),
      registry(std::move(kinds)),
      db(database),
      worker_id(std::move(worker)) {
  const auto limits = limits_of(settings);
  for (const auto& [queue, _] : settings.queues) {
    auto& mine = queue_limits[queue];
    for (const auto& l : limits)
      if (l.applies_to_queue(queue)) mine.push_back(l);
  }
}

std::span<const jobs::concurrency_limit> core::limits_for(std::string_view queue) const {
  const auto it = queue_limits.find(queue);
  if (it == queue_limits.end()) return {};
  return it->second;
}

boost::asio::awaitable<std::vector<jobs::enqueue_result>> core::enqueue(
    std::vector<jobs::new_job> batch) {
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (auto why = jobs::check(batch[i]))
      throw std::invalid_argument(batch.size() == 1 ? *why : "job " + std::to_string(i) + ": " + *why);
  std::vector<std::pair<std::string, std::string>> sent;  // queue, kind
  sent.reserve(batch.size());
  for (auto& j : batch) sent.emplace_back(j.queue, j.kind);

  // Each queue's producer is woken once, for its earliest due job, from the database thread
  // at commit: the handler's start need not wait for this coroutine to resume first.
  auto wake = [this](std::span<const jobs::new_job> jobs, std::span<const jobs::enqueue_result> done,
                      const store::db_executor::served_queues& served) {
    const auto now = jobs::now();
    std::map<std::string_view, jobs::time_point> due;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (done[i].duplicate) continue;
      // Claimed in the same transaction if due at the transaction's time (a job without run_at
      // was: `now` here is later).
      if (auto it = served.find(jobs[i].queue);
          it != served.end() && jobs[i].run_at.value_or(it->second) <= it->second)
        continue;
      const auto at = jobs[i].run_at.value_or(now);
      auto [it, added] = due.emplace(jobs[i].queue, at);
      if (!added) it->second = std::min(it->second, at);
    }
    for (auto& [queue, at] : due) notify(queue, at);
  };
  auto& timing = stats.db_operation("insert");
  const auto started = std::chrono::steady_clock::now();
  auto results = co_await db.insert(std::move(batch), std::move(wake));
  timing.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].duplicate) continue;
    stats.series(sent[i].first, sent[i].second).enqueued.fetch_add(1, std::memory_order_relaxed);
    log::info("job_enqueued").kv("job_id", results[i].id).kv("kind", sent[i].second)
        .kv("queue", sent[i].first);
  }
  co_return results;
}

void core::follow_ups_committed(jobs::job_id parent, std::span<const jobs::new_job> jobs,
                                std::span<const jobs::enqueue_result> results) {
  const auto now = jobs::now();
  std::map<std::string_view, jobs::time_point> due;
  for (std::size_t i = 0; i < jobs.size() && i < results.size(); ++i) {
    if (results[i].duplicate) continue;
    const auto& j = jobs[i];
    stats.series(j.queue, j.kind).enqueued.fetch_add(1, std::memory_order_relaxed);
    log::info("job_enqueued").kv("job_id", results[i].id).kv("kind", j.kind).kv("queue", j.queue)
        .kv("by_job", parent);
    const auto at = j.run_at.value_or(now);
    auto [it, added] = due.emplace(j.queue, at);
    if (!added) it->second = std::min(it->second, at);
  }
  for (auto& [queue, at] : due) notify(queue, at);
}

core::~core() = default;

jobs::duration core::lease() const { return seconds(settings.lease_s); }
jobs::duration core::poll_interval() const { return seconds(settings.poll_interval_s); }

jobs::kind_options core::options_for(std::string_view kind) const {
  return registry.effective(kind, settings);
}

jobs::duration core::leader_ttl() const { return seconds(settings.leader_ttl_s); }

store::node_info core::node() const {
  store::node_info n;
  n.id = worker_id;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  n.host = host;
  n.pid = getpid();
  n.started_at = started_at;
  for (auto& [q, _] : settings.queues) n.queues.push_back(q);  // a producer each
  n.kinds = registry.kinds();
  std::sort(n.kinds.begin(), n.kinds.end());
  return n;
}

void core::notify(std::string_view queue, jobs::time_point due) {
  if (producers) producers->notify(queue, due);
}

void core::cancel(jobs::job_id id, cancel_reason why) {
  if (producers) producers->cancel(id, why);
}

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string make_worker_id() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::uniform_int_distribution<int> hex(0, 0xffff);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", hex(thread_rng()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

}  // namespace spool::runtime
