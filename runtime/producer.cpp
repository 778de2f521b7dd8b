#include "runtime/producer.hpp"

#include "jobs/json.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <unordered_set>

#include "runtime/completion_batch.hpp"
#include "runtime/log.hpp"
#include "runtime/spawn.hpp"

namespace spool::runtime {

// Claims under concurrency limits count on no claim asking for more (persistence/sql_limits.cpp).
static_assert(max_round_jobs <= store::max_claim_jobs);
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// Rounds of one producer in flight at once (see round_policy.hpp). On one connection (SQLite) a
// second round would only wait behind the first, and make both smaller.
int rounds_allowed(const core& c) { return std::min(2, c.db.connections()); }

}  // namespace

producer::producer(core& c, std::string queue, int concurrency)
    : core_(c),
      queue_(std::move(queue)),
      concurrency_(concurrency),
      strand_(asio::make_strand(c.executor)),
      timer_(strand_),
      round_timing_(c.stats.db_operation("round")),
      fsm_({.concurrency = concurrency,
            .rounds_allowed = rounds_allowed(c),
            .poll = std::chrono::duration_cast<steady::duration>(c.poll_interval())},
           steady::now()),
      slots_(c, queue_, concurrency, strand_, [this] { collect_ended(); }) {}

asio::awaitable<void> producer::run() {
  for (;;) {
    const auto step = fsm_.next(steady::now(), jobs::now());
    using action = producer_fsm::action;
    if (step.what == action::done) break;
    if (step.what == action::send_round) {
      send_round(step.sent);
    } else if (step.what == action::stand) {
      stand(step.stand_limit);
    } else if (step.what == action::withdraw) {
      withdraw();
    } else {
      timer_.expires_at(step.until.value_or(steady::time_point::max()));
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  finished_ = true;
  slots_.stop_watching();  // lets the deadline watcher return
}

void producer::react(producer_fsm::reaction r) {
  if (r.withdraw) withdraw();
  if (r.wake) timer_.cancel();  // run() asks the machine again
}

void producer::send_round(const producer_fsm::round& r) {
  asio::co_spawn(strand_, round(r), [this, r](std::exception_ptr e) {
    if (!e) return;
    // Not a database failure (round() handles those): the round ends here all the same.
    log_escape("producer round")(e);
    react(fsm_.round_failed(r, 0, steady::now()));
  });
}

asio::awaitable<void> producer::round(producer_fsm::round r) {
  auto id_of = [](const attempt_slots::ended_attempt& f) { return f.completion.id; };
  auto batch = take_batch(buffer_, id_of, max_round_jobs);
  fsm_.outcomes_sent(static_cast<int>(batch.size()), steady::now());
  std::vector<jobs::completion> done;
  done.reserve(batch.size());
  for (auto& f : batch) done.push_back(std::move(f.completion));
  const auto now = jobs::now();
  const store::claim_request request{.queue = queue_,
                                     .limit = r.claim,
                                     .worker = core_.worker_id,
                                     .now = now,
                                     .lease_until = now + core_.lease(),
                                     .want_next_due = r.want_next_due,
                                     .limits = core_.limits_for(queue_)};

  store::round_result result;
  bool ok = false;
  try {
    // Named, not a temporary inside co_await: GCC 12 mis-moves such lambdas' captures. The
    // references stay valid: this frame waits for the call.
    auto call = [&done, &request, &timing = round_timing_](store::store& s) {
      const auto started = steady::now();
      auto res = s.complete_and_claim(done, request);
      timing.observe(std::chrono::duration<double>(steady::now() - started).count());
      return res;
    };
    result = co_await core_.db.run(std::move(call));
    ok = true;
  } catch (const std::exception& e) {
    log::error(r.claim > 0 ? "claim_failed" : "completion_flush_failed").kv("queue", queue_)
        .kv("jobs", done.size()).kv("error", e.what())
        .kv("retry_in_ms", static_cast<std::int64_t>(fsm_.backoff().count()));
  }

  if (!ok) {  // a locked or unreachable database: keep the outcomes, first in line
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].completion = std::move(done[i]);
    buffer_.insert(buffer_.begin(), std::make_move_iterator(batch.begin()),
                   std::make_move_iterator(batch.end()));
    react(fsm_.round_failed(r, static_cast<int>(batch.size()), steady::now()));
    co_return;
  }

  // Debug: what an operator needs when a queue seems stuck (is it claiming? finding nothing?).
  log::debug("round").kv("queue", queue_).kv("completed", done.size()).kv("claim_asked", r.claim)
      .kv("claimed", result.claimed.size()).kv("stale", result.stale.size());
  const auto steady_now = steady::now();
  producer_fsm::reaction next;
  if (!done.empty()) {
    const std::unordered_set<jobs::job_id> rejected(result.stale.begin(), result.stale.end());
    std::map<jobs::lease_id, int> released;
    const auto wall_now = jobs::now();
    std::span<const jobs::enqueue_result> follow_ups = result.follow_ups;
    for (std::size_t i = 0; i < done.size(); ++i) {
      const auto& c = done[i];
      ++released[c.lease];
      if (rejected.count(c.id)) {
        core_.stats.rejected_completions++;
        log::warn("completion_rejected").kv("job_id", c.id).kv("kind", batch[i].kind)
            .kv("reason", "lease lost: another worker took the job over")
            .kv("follow_ups_dropped", c.follow_ups.size());
        continue;
      }
      if (!c.follow_ups.empty()) {  // the store answers them in this order (accepted_follow_ups)
        const auto n = std::min(c.follow_ups.size(), follow_ups.size());
        core_.follow_ups_committed(c.id, c.follow_ups, follow_ups.first(n));
        follow_ups = follow_ups.subspan(n);
      }
      if (c.change.next == jobs::transition::to::retry ||
          c.change.next == jobs::transition::to::requeue) {
        next |= fsm_.job_due(c.change.run_at, steady_now, wall_now);
      }
    }
    core_.leases.release(released);
    core_.committed.fetch_add(done.size() - rejected.size(), std::memory_order_relaxed);
    // Dependants these completions made due: here at once, other queues through their producers.
    for (const auto& q : result.released) {
      if (q == queue_) next |= fsm_.job_due(wall_now, steady_now, wall_now);
      else core_.notify(q, wall_now);
    }
  }
  const int claimed = static_cast<int>(result.claimed.size());
  start_claimed(std::move(result.claimed));
  next |= fsm_.round_done(r, claimed, result.next_due, steady_now, result.held_back);
  react(next);
}

void producer::start_claimed(std::vector<jobs::claimed_job> jobs) {
  if (jobs.empty()) return;
  core_.leases.add(jobs.front().lease, static_cast<int>(jobs.size()));
  slots_.start(std::move(jobs));
}

void producer::collect_ended() {
  if (const int n = slots_.collect_ended(buffer_)) react(fsm_.attempts_ended(n, steady::now()));
}

void producer::stand(int limit) {
  core_.db.stand({.queue = queue_,
                  .limit = limit,
                  .worker = core_.worker_id,
                  .lease = core_.lease(),
                  .limits = core_.limits_for(queue_),
                  .allowed = [this] { return !paused_ && !stop_requested_; },
                  .claimed = [this](std::vector<jobs::claimed_job> jobs) {
                    asio::post(strand_, [this, jobs = std::move(jobs)]() mutable {
                      const int n = static_cast<int>(jobs.size());
                      start_claimed(std::move(jobs));
                      react(fsm_.stand_made(n, steady::now()));
                    });
                  }});
}

void producer::withdraw() {
  core_.db.withdraw(queue_, [this] {
    asio::post(strand_, [this] { react(fsm_.stand_withdrawn(steady::now())); });
  });
}

void producer::notify(jobs::time_point due) {
  log::debug("queue_woken").kv("queue", queue_).kv("due", jobs::to_rfc3339(due));
  asio::post(strand_, [this, due] { react(fsm_.job_due(due, steady::now(), jobs::now())); });
}

void producer::pause(bool paused) {
  paused_ = paused;
  asio::post(strand_, [this, paused] { react(fsm_.pause(paused, steady::now())); });
}

void producer::stop() {
  stop_requested_ = true;  // a standing claim is not made from now on
  asio::post(strand_, [this] { react(fsm_.stop()); });
}

void producer::abandon() {
  asio::post(strand_, [this] { react(fsm_.abandon()); });
}

void producer::cancel(jobs::job_id id, cancel_reason why) {
  asio::post(strand_, [this, id, why] { slots_.cancel(id, why); });
}

void producer::cancel_all(cancel_reason why) {
  asio::post(strand_, [this, why] { slots_.cancel_all(why); });
}

}  // namespace spool::runtime
