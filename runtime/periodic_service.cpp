#include "runtime/periodic_service.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "runtime/log.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Held in every waiting and running state, and for this long after the job completed: the
// stored last tick already keeps a tick from running twice; the key makes the database say so too.
constexpr jobs::duration tick_key_kept = std::chrono::hours(24 * 366);

}  // namespace

periodic_service::periodic_service(core& c) : core_(c), since_(jobs::now()) {
  for (const auto& p : c.settings.periodic)  // validated: they parse
    schedules_.push_back({p, schedule::cron::parse(p.cron, p.timezone),
                          p.catch_up == "none" ? schedule::catch_up::none : schedule::catch_up::one});
}

jobs::duration periodic_service::grace() const {
  return std::max<jobs::duration>(10s, 2 * core_.leader_ttl());
}

asio::awaitable<bool> periodic_service::enqueue_tick(const entry& e, jobs::time_point tick,
                                                    jobs::time_point now) {
  jobs::new_job job;
  job.kind = e.settings.kind;
  job.queue = e.settings.queue;
  job.payload = e.settings.payload;
  job.priority = e.settings.priority;
  job.max_attempts = e.settings.max_attempts;
  job.unique_key = schedule::tick_key(e.settings.name, tick);
  job.unique_for = tick_key_kept;
  auto enqueue = [name = e.settings.name, tick, job, now](store::store& s) {
    return s.enqueue_periodic(name, tick, job, now);
  };
  const auto r = co_await core_.db.run(std::move(enqueue));
  const auto tick_us = static_cast<std::int64_t>(tick.time_since_epoch().count());
  if (!r || r->duplicate) {
    log::debug("periodic_tick_taken").kv("schedule", e.settings.name).kv("tick_us", tick_us);
    co_return false;
  }
  log::info("periodic_enqueued").kv("schedule", e.settings.name).kv("job_id", r->id)
      .kv("kind", job.kind).kv("queue", job.queue).kv("tick_us", tick_us);
  core_.notify(job.queue, now);
  co_return true;
}

asio::awaitable<std::size_t> periodic_service::run_once(jobs::time_point now) {
  std::vector<std::string> names;
  for (const auto& e : schedules_) names.push_back(e.settings.name);
  auto read = [names, forget = !forgot_](store::store& s) {
    std::int64_t forgotten = forget ? s.forget_periodic(names) : 0;
    return std::pair{forgotten, s.periodic_rows()};
  };
  auto got = co_await core_.db.run(std::move(read));
  const auto& rows = got.second;
  if (!forgot_ && got.first > 0) log::info("periodic_schedules_forgotten").kv("schedules", got.first);
  forgot_ = true;

  std::size_t enqueued = 0;
  std::optional<jobs::time_point> earliest;
  for (const auto& e : schedules_) {
    std::optional<jobs::time_point> last;
    for (const auto& r : rows)
      if (r.name == e.settings.name) last = r.last_tick;
    const auto step = schedule::decide(e.cron, e.mode, last, since_, now, grace());
    if (step.next && (!earliest || *step.next < *earliest)) earliest = step.next;
    if (!step.due) continue;
    if (co_await enqueue_tick(e, *step.due, now)) ++enqueued;
  }
  next_ = earliest;
  co_return enqueued;
}

asio::awaitable<void> periodic_service::run() {
  if (schedules_.empty()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A plain loop: GCC 12 skips the co_await of a do-while condition reached by `continue`.
  for (;;) {
    // Not the leader: look again soon, as leadership may come at any moment. The leader sleeps
    // until the next tick, but at most a minute (the system clock may be set meanwhile).
    jobs::duration wait = core_.leader_ttl() / 3;
    if (core_.leader) {
      try {
        co_await run_once(jobs::now());
        if (next_) wait = std::clamp<jobs::duration>(*next_ - jobs::now(), 0s, 60s);
        else wait = 60s;
      } catch (const std::exception& e) {
        log::error("periodic_failed").kv("error", e.what());
      }
    }
    // Short steps, so that stop() takes effect quickly without a cross-thread timer cancel.
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stopped_ && std::chrono::steady_clock::now() < until) {
      timer.expires_at(std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (stopped_) break;
  }
}

}  // namespace spool::runtime
