#include "runtime/producer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "jobs/json.hpp"
#include "jobs/lifecycle.hpp"
#include "runtime/completer.hpp"
#include "runtime/log.hpp"
#include "runtime/spawn.hpp"

namespace spool::runtime {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

void log_transition(const jobs::claimed_job& j, const jobs::outcome& result,
                    const jobs::transition& t, double ms) {
  using to = jobs::transition::to;
  switch (t.next) {
    case to::completed:
      log::info("job_succeeded").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("duration_ms", ms);
      break;
    case to::retry:
      log::warn("job_failed").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("error", t.error ? t.error->message : "")
          .kv("next_run_at", jobs::to_rfc3339(t.run_at));
      break;
    case to::dead:
      log::error("job_dead_lettered").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("error", t.note);
      break;
    case to::cancelled:
      log::info("job_cancelled").kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue)
          .kv("attempt", j.attempt).kv("reason", t.note);
      break;
    case to::requeue:
      log::info(result.kind == jobs::outcome::type::interrupted ? "job_interrupted" : "job_snoozed")
          .kv("job_id", j.id).kv("kind", j.kind).kv("queue", j.queue).kv("attempt", j.attempt)
          .kv("next_run_at", jobs::to_rfc3339(t.run_at));
      break;
  }
}

void record(job_series& s, metrics& m, const jobs::outcome& result, const jobs::transition& t,
            double seconds) {
  using to = jobs::transition::to;
  s.duration.observe(seconds);
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(t.at.time_since_epoch()).count();
  switch (t.next) {
    case to::completed: s.succeeded++; m.rates.add(second, false); break;
    case to::retry: s.failed++; m.rates.add(second, true); break;
    case to::dead: s.dead++; m.rates.add(second, true); break;
    case to::cancelled: s.cancelled++; break;
    case to::requeue:
      (result.kind == jobs::outcome::type::interrupted ? s.interrupted : s.snoozed)++;
      break;
  }
}

}  // namespace

producer::producer(core& c, std::string queue, int concurrency)
    : core_(c),
      queue_(std::move(queue)),
      concurrency_(concurrency),
      strand_(asio::make_strand(c.executor)),
      timer_(strand_),
      deadline_timer_(strand_),
      job_log_([](const jobs::claimed_job& j, std::string_view msg) {
        log::info("job_log").kv("job_id", j.id).kv("kind", j.kind).kv("attempt", j.attempt)
            .kv("message", msg);
      }),
      claim_timing_(c.stats.db_operation("claim")) {}

asio::awaitable<void> producer::watch_deadlines() {
  while (!stopping_ || !running_.empty()) {
    deadline_timer_.expires_at(deadlines_.empty() ? steady::now() + std::chrono::seconds(1)
                                                  : deadlines_.begin()->first);
    co_await deadline_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto now = steady::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      if (auto it = running_.find(id); it != running_.end()) {
        it->second->deadline = deadlines_.end();
        cancel_running(it->second, cancel_reason::timeout);
      }
    }
  }
}

asio::awaitable<void> producer::run() {
  auto last_poll = steady::now();
  const auto poll = std::chrono::duration_cast<steady::duration>(core_.poll_interval());
  bool refresh_due = true;
  auto backoff = std::chrono::milliseconds(50);
  while (!stopping_) {
    auto now = jobs::now();
    if (refresh_due) {
      refresh_due = false;
      try {
        // Named lambdas, not temporaries inside co_await: GCC 12 mis-moves their captures.
        auto find = [q = queue_, now](store::store& s) { return s.next_due(q, now); };
        next_due_ = co_await core_.db.run(std::move(find));
      } catch (const std::exception& e) {
        log::error("next_due_failed").kv("queue", queue_).kv("error", e.what());
      }
      if (stopping_) break;
    }
    const bool due = next_due_ && *next_due_ <= now;
    const int free = concurrency_ - static_cast<int>(running_.size());
    if (free > 0 && (wake_ || due) && !paused_) {
      wake_ = false;
      if (due) {
        next_due_.reset();
        refresh_due = true;
      }
      std::vector<jobs::claimed_job> batch;
      bool failed = false;
      try {
        auto claim = [q = queue_, free, w = core_.worker_id, now, until = now + core_.lease(),
                      &timing = claim_timing_](store::store& s) {
          const auto started = steady::now();
          auto got = s.claim(q, free, w, now, until);
          timing.observe(std::chrono::duration<double>(steady::now() - started).count());
          return got;
        };
        batch = co_await core_.db.run(std::move(claim));
        backoff = std::chrono::milliseconds(50);
      } catch (const std::exception& e) {
        log::error("claim_failed").kv("queue", queue_).kv("error", e.what())
            .kv("retry_in_ms", static_cast<std::int64_t>(backoff.count()));
        failed = true;
      }
      if (failed) {  // a locked or unreachable database: back off, then try again
        wake_ = true;
        timer_.expires_after(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (!batch.empty()) core_.leases.add(batch.front().lease, static_cast<int>(batch.size()));
      if (static_cast<int>(batch.size()) == free) wake_ = true;  // there may be more
      for (auto& j : batch) start(std::move(j));
      continue;
    }
    auto wake_at = last_poll + poll;
    if (next_due_) {
      // Capped at the poll interval before it becomes steady_clock's nanoseconds: a run_at more
      // than 292 years ahead would overflow them (and the poll wakes the producer first anyway).
      const auto until_due = std::min<jobs::duration>(*next_due_ - jobs::now(), core_.poll_interval());
      wake_at = std::min(wake_at, steady::now() + std::chrono::duration_cast<steady::duration>(until_due));
    }
    timer_.expires_at(wake_at);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (steady::now() >= last_poll + poll) {
      last_poll = steady::now();
      wake_ = true;  // jobs written by other processes
      refresh_due = true;
    }
  }
}

void producer::start(jobs::claimed_job job) {
  auto rj = std::make_shared<running_job>(std::move(job), asio::make_strand(core_.executor));
  running_.emplace(rj->job.id, rj);
  ++core_.in_flight;
  ++running_count_;
  rj->series = &core_.stats.series(queue_, rj->job.kind);
  const auto options = core_.options_for(rj->job.kind);
  const auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(options.timeout);
  const bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
  rj->deadline = deadlines_.emplace(deadline, rj->job.id);
  if (earliest) deadline_timer_.cancel();
  rj->series->wait.observe(
      std::max(0.0, std::chrono::duration<double>(jobs::now() - rj->job.run_at).count()));
  const auto* entry = core_.registry.find(rj->job.kind);
  const auto started = steady::now();
  log::info("job_started").kv("job_id", rj->job.id).kv("kind", rj->job.kind)
      .kv("queue", queue_).kv("attempt", rj->job.attempt)
      .kv("wait_ms", std::chrono::duration<double, std::milli>(jobs::now() - rj->job.run_at).count());
  asio::co_spawn(
      core_.dog.watch(rj->strand, rj->job.id),
      run_attempt(rj->job, entry, options.timeout, job_log_, core_.enqueue_for_jobs, rj->reason),
      asio::bind_cancellation_slot(
          rj->signal.slot(),
          [this, rj, options, started](std::exception_ptr error, jobs::outcome result) {
            if (error) result = jobs::outcome::error("internal error running the job");
            const auto& j = rj->job;
            auto t = jobs::decide(result, j.attempt, j.max_attempts, options.retry, jobs::now(),
                                  thread_rng());
            const double ms = ms_since(started);
            log_transition(j, result, t, ms);
            record(*rj->series, core_.stats, result, t, ms / 1000);
            core_.completions->submit({{j.id, j.lease, std::move(t)}, j.queue, j.kind});

          }));
}

void producer::finished(jobs::job_id id) {
  if (auto it = running_.find(id); it != running_.end() && it->second->deadline != deadlines_.end())
    deadlines_.erase(it->second->deadline);
  running_.erase(id);
  --core_.in_flight;
  --running_count_;
  if (stopping_ && running_.empty()) deadline_timer_.cancel();  // lets the watcher return
  if (wake_ || next_due_) timer_.cancel();
}

void producer::committed(jobs::job_id id) {
  asio::post(strand_, [this, id] { finished(id); });
}

void producer::notify(jobs::time_point due) {
  asio::post(strand_, [this, due] {
    if (due <= jobs::now())
      wake_ = true;
    else if (!next_due_ || due < *next_due_)
      next_due_ = due;
    timer_.cancel();
  });
}

void producer::pause(bool paused) {
  paused_ = paused;
  if (!paused) notify(jobs::now());
}

void producer::stop() {
  asio::post(strand_, [this] {
    stopping_ = true;
    timer_.cancel();
    deadline_timer_.cancel();
  });
}

void producer::cancel_running(const std::shared_ptr<running_job>& rj, cancel_reason why) {
  int none = 0;
  rj->reason.compare_exchange_strong(none, static_cast<int>(why));
  // The signal belongs to the job's strand: emit it there.
  asio::post(rj->strand, [rj] { rj->signal.emit(asio::cancellation_type::terminal); });
}

void producer::cancel(jobs::job_id id, cancel_reason why) {
  asio::post(strand_, [this, id, why] {
    if (auto it = running_.find(id); it != running_.end()) cancel_running(it->second, why);
  });
}

void producer::cancel_all(cancel_reason why) {
  asio::post(strand_, [this, why] {
    for (auto& [_, rj] : running_) cancel_running(rj, why);
  });
}

}  // namespace spool::runtime
