#include "tests/sim/node.hpp"

#include <fmt/format.h>

#include <set>

#include "jobs/lifecycle.hpp"
#include "runtime/completion_batch.hpp"
#include "tests/sim/oracle.hpp"

namespace spool::sim {
namespace {

using namespace std::chrono_literals;
using to = jobs::transition::to;

// The producer's machine runs on steady time; the simulated clock stands in for it.
runtime::producer_fsm::steady_time steady(time_point t) {
  return runtime::producer_fsm::steady_time(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch()));
}
time_point from_steady(runtime::producer_fsm::steady_time t) {
  return time_point(std::chrono::duration_cast<duration>(t.time_since_epoch()));
}

std::string describe(const jobs::outcome& o) {
  switch (o.kind) {
    case jobs::outcome::type::succeeded: return "success";
    case jobs::outcome::type::failed: return "error \"" + o.message + "\"";
    case jobs::outcome::type::failed_permanently: return "permanent error \"" + o.message + "\"";
    case jobs::outcome::type::snoozed:
      return fmt::format("snooze {:.3f}s", std::chrono::duration<double>(o.snooze_for).count());
    case jobs::outcome::type::cancelled: return "cancelled";
    case jobs::outcome::type::interrupted: return "interrupted";
  }
  return "?";
}

}  // namespace

void node::later(duration d, std::function<void()> f) {
  w_.events.after(d, [this, gen = incarnation_, f = std::move(f)] {
    if (gen == incarnation_ && up_) f();
  });
}

void node::say(const std::string& text) { w_.note(worker_ + " " + text); }

// ---- process life --------------------------------------------------------------------------

void node::boot() {
  ++incarnation_;
  worker_ = fmt::format("n{}.{}", index_, incarnation_);
  up_ = true;
  draining_ = db_busy_ = db_stand_ = false;
  db_stand_limit_ = 0;
  fsm_ = runtime::producer_fsm({.concurrency = concurrency_}, steady(w_.now()));
  recheck_at_.reset();
  stage_ = stage::running;
  running_.clear();
  buffer_.clear();
  db_queue_.clear();
  leases_ = std::make_unique<runtime::lease_book>();
  // One connection for all of the node's lives. A new process would open a new one, but nothing
  // is left in it between steps (a store call is one transaction, done within one step), and
  // opening and preparing it again took a large part of the simulation's time.
  if (!real_) real_ = store::open("sqlite:" + w_.db_path);
  store_ = std::make_unique<faulty_store>(*real_, w_, *w_.truth, worker_, outage_until_);
  say("boots");
  w_.count("boots");
  // runtime::run: one rescue pass before anything else, then producers and services.
  rescue([this] {
    poll();
    keep_leases();
    rescuer_loop();
  });
}

void node::go_down() {
  up_ = false;
  ++incarnation_;
  running_.clear();
  buffer_.clear();
  db_queue_.clear();
  store_.reset();
  leases_.reset();
  if (on_down) on_down();
}

void node::cut_off(duration d) {
  outage_until_ = std::max(outage_until_, w_.now() + d);
  w_.note(fmt::format("n{} cannot reach the database for {:.3f}s", index_,
                      std::chrono::duration<double>(d).count()));
  w_.count("outages");
}

void node::crash(const std::string& why) {
  if (!up_) return;
  say(fmt::format("CRASHES ({}) with {} jobs in hand", why, running_.size()));
  w_.count("crashes");
  go_down();
}

// ---- the database thread (db_executor): one call at a time, in order -----------------------

void node::call(std::string what, std::function<void(store::store&)> work,
                std::function<void(const std::string* error)> then) {
  db_queue_.push_back({std::move(what), std::move(work), std::move(then)});
  if (!db_busy_) next_call();
}

duration node::latency() {
  if (w_.chance(w_.faults.hang)) {
    w_.count("store calls hung past a lease");
    return w_.span(w_.times.lease, 2 * w_.times.lease);
  }
  if (w_.chance(w_.faults.slow)) return w_.span(10ms, 3s);
  return w_.span(100us, 5ms);
}

void node::next_call() {
  if (db_queue_.empty()) {
    db_busy_ = false;
    return;
  }
  db_busy_ = true;
  const auto d = latency();
  if (d >= w_.times.lease)
    say(fmt::format("store call '{}' hangs for {:.3f}s", db_queue_.front().what,
                    std::chrono::duration<double>(d).count()));
  // The call takes effect when it returns: a crash before then means it never committed.
  later(d, [this] {
    auto c = std::move(db_queue_.front());
    db_queue_.pop_front();
    std::optional<std::string> error;
    try {
      c.work(*store_);
    } catch (const store::store_error& e) {
      error = e.what();
      w_.count("store calls failed");
    }
    w_.count("store calls");
    if (w_.chance(w_.faults.crash_after)) {
      crash("right after store call '" + c.what + "' returned");
      return;
    }
    const int gen = incarnation_;
    c.then(error ? &*error : nullptr);
    if (gen == incarnation_ && up_) next_call();
  });
}

// ---- producer ------------------------------------------------------------------------------

void node::poll() {  // the producer's fallback poll: finds jobs written by other processes
  if (fsm_.stopping()) return;
  react(fsm_.poll(steady(w_.now())));
  try_round();
  later(w_.times.poll, [this] { poll(); });
}

void node::notify(time_point due) {  // producer::notify
  react(fsm_.job_due(due, steady(w_.now()), w_.now()));  // a time ahead is slept towards
  try_round();
}

void node::react(runtime::producer_fsm::reaction r) {
  // The model asks for its next step after every event, so it needs no wake-up.
  if (r.withdraw) withdraw();
}

void node::try_round() {  // producer::run's loop, until the machine says sleep
  using action = runtime::producer_fsm::action;
  while (up_) {
    const auto now = w_.now();
    const auto step = fsm_.next(steady(now), now);
    if (step.what == action::send_round) {
      send_round(step.sent);
    } else if (step.what == action::stand) {
      stand(step.stand_limit);
    } else if (step.what == action::withdraw) {
      withdraw();
    } else {
      if (step.what == action::sleep && step.until) recheck_at(from_steady(*step.until));
      return;  // asleep, or done: progress() ends the process
    }
  }
}

void node::recheck_at(time_point at) {  // the producer's timer
  if (recheck_at_ && *recheck_at_ <= at) return;
  recheck_at_ = at;
  later(std::max(duration::zero(), at - w_.now()), [this, at] {
    if (recheck_at_ == at) recheck_at_.reset();
    try_round();
  });
}

void node::send_round(const runtime::producer_fsm::round& r) {  // producer::round
  const auto now = w_.now();
  auto batch = std::make_shared<std::vector<jobs::completion>>(
      runtime::take_batch(buffer_, [](const jobs::completion& c) { return c.id; },
                          runtime::max_round_jobs));
  fsm_.outcomes_sent(static_cast<int>(batch->size()), steady(now));
  const store::claim_request request{.queue = "default",
                                     .limit = r.claim,
                                     .worker = worker_,
                                     .now = now,
                                     .lease_until = now + w_.times.lease,
                                     .want_next_due = r.want_next_due};
  auto result = std::make_shared<store::round_result>();
  call(
      fmt::format("round: commit {}, claim {}", batch->size(), r.claim),
      [=](store::store& s) { *result = s.complete_and_claim(*batch, request); },
      [=, this](const std::string* error) {
        if (error) {  // keep the outcomes, in front of what came since; back off, then try again
          say(fmt::format("round failed: {}", *error));
          buffer_.insert(buffer_.begin(), batch->begin(), batch->end());
          react(fsm_.round_failed(r, static_cast<int>(batch->size()), steady(w_.now())));
          try_round();
          progress();  // producer::run checks done() after every round, failed ones too
          return;
        }
        const std::set<jobs::job_id> rejected(result->stale.begin(), result->stale.end());
        std::map<jobs::lease_id, int> done;
        for (const auto& c : *batch) {
          ++done[c.lease];
          if (rejected.count(c.id)) {
            say(fmt::format("completion of job {} rejected: lease {} lost", c.id, c.lease));
            if (!c.follow_ups.empty()) w_.count("follow-ups dropped with a stale completion");
          } else if (c.change.next == to::retry || c.change.next == to::requeue)
            notify(c.change.run_at);
          running_.erase({c.id, c.lease});  // the slot is free once the outcome committed
        }
        leases_->release(done);
        // Dependants these completions made due (producer::round): one queue here.
        if (!result->released.empty()) notify(w_.now());
        if (!batch->empty())
          say(fmt::format("committed {} completions ({} rejected)", batch->size(), rejected.size()));
        const auto& got = result->claimed;
        react(fsm_.round_done(r, static_cast<int>(got.size()), result->next_due, steady(w_.now())));
        start_claimed(got, "claims");
        try_round();
        progress();
      });
}

void node::stand(int limit) {  // producer::stand, then db_executor::stand
  auto stand = [this, limit](store::store&) {
    db_stand_ = true;
    db_stand_limit_ = limit;
  };
  call("stand", stand, [](const std::string*) {});
}

void node::withdraw() {  // producer::withdraw, then db_executor::withdraw
  auto taken_back = std::make_shared<bool>(false);
  call(
      "withdraw standing claim",
      [this, taken_back](store::store&) { *taken_back = std::exchange(db_stand_, false); },
      [this, taken_back](const std::string*) {
        if (!*taken_back) return;  // an enqueue made it first: stand_made resolves it
        w_.count("standing claims taken back");
        react(fsm_.stand_withdrawn(steady(w_.now())));
        try_round();
        progress();
      });
}

void node::stand_made(const std::vector<jobs::claimed_job>& got) {
  w_.count("standing claims made by an enqueue");
  react(fsm_.stand_made(static_cast<int>(got.size()), steady(w_.now())));
  start_claimed(got, "standing claim made");
  try_round();
  progress();
}

void node::start_claimed(const std::vector<jobs::claimed_job>& got, std::string_view how) {
  if (got.empty()) return;
  leases_->add(got.front().lease, static_cast<int>(got.size()));
  std::string what;
  for (const auto& j : got) what += fmt::format(" {}(a{})", j.id, j.attempt);
  say(fmt::format("{} under lease {}:{}", how, got.front().lease, what));
  for (const auto& j : got) start(j);
}

void node::start(const jobs::claimed_job& job) {  // attempt_slots::start
  attempt_run r;
  r.job = job;
  // What the handler will do. Messages carry the attempt so error histories are checkable.
  const int pick = w_.between(0, 99);
  if (pick < 55)
    r.planned = jobs::outcome::success();
  else if (pick < 77)
    r.planned = jobs::outcome::error(fmt::format("boom on attempt {}", job.attempt));
  else if (pick < 85)
    r.planned = jobs::outcome::permanent(fmt::format("hopeless on attempt {}", job.attempt));
  else
    r.planned = jobs::outcome::snooze(w_.span(0s, 3s));
  // How long it takes: mostly quick, sometimes slow, now and then past the lease and the timeout.
  const int slow = w_.between(0, 99);
  const auto lease = w_.times.lease;
  const duration takes = slow < 80   ? w_.span(1ms, 2s)
                         : slow < 94 ? w_.span(2s, lease)
                                     : w_.span(lease, 3 * lease);
  r.honours_cancel = w_.chance(0.8);
  const key k{job.id, job.lease};
  for (const auto& [other, _] : running_)
    if (other.first == job.id)
      w_.count("jobs claimed again before their last completion committed");
  running_[k] = std::move(r);
  say(fmt::format("starts job {} attempt {}: will {} after {:.3f}s{}", job.id, job.attempt,
                  describe(running_[k].planned), std::chrono::duration<double>(takes).count(),
                  running_[k].honours_cancel ? "" : ", ignoring cancellation"));
  later(takes, [this, k] { finish(k, 0); });
  later(w_.kind(job.kind).options.timeout,
        [this, k] { cancel(k, runtime::cancel_reason::timeout); });
}

void node::cancel(key k, runtime::cancel_reason why) {  // attempt_slots::cancel_running
  auto it = running_.find(k);
  if (it == running_.end() || it->second.done) return;
  auto& r = it->second;
  if (r.reason == runtime::cancel_reason::none) r.reason = why;  // the first reason wins
  say(fmt::format("cancels job {} (reason {}){}", k.first, static_cast<int>(why),
                  r.honours_cancel ? "" : "; the handler ignores it"));
  if (r.honours_cancel && !r.cut_short) {
    r.cut_short = true;
    const int seq = ++r.finish_seq;
    later(w_.span(0ms, 20ms), [this, k, seq] { finish(k, seq); });
  }
}

void node::finish(key k, int seq) {  // attempt_slots::finish
  auto it = running_.find(k);
  if (it == running_.end() || it->second.done || it->second.finish_seq != seq) return;
  auto& r = it->second;
  r.done = true;
  const auto& kind = w_.kind(r.job.kind);
  // A handler cut short by cancellation ends with the error its aborted operation raised.
  const auto raw = r.cut_short ? jobs::outcome::error("Operation canceled") : r.planned;
  const auto result = runtime::settle(raw, r.reason, kind.options.timeout);
  w_.truth->settled(raw, r.reason, result);
  if (r.reason != runtime::cancel_reason::none)
    w_.count(r.reason == runtime::cancel_reason::shutdown ? "attempts cancelled by shutdown"
                                                          : "attempts cancelled by their timeout");
  const auto now = w_.now();
  auto t = jobs::decide(result, r.job.attempt, r.job.max_attempts, kind.options.retry, now, w_.rng);
  w_.truth->decided(r.job.id, r.job.attempt, r.job.max_attempts, kind.options.retry, result, now,
                    t);
  say(fmt::format("job {} attempt {} ends: {} -> {}", r.job.id, r.job.attempt, describe(result),
                  to_string(t.next)));
  // Every third job enqueues a follow-up in each attempt (job_context::enqueue); a success
  // carries it to the store, any other end drops it (attempt_slots::finish). Follow-ups enqueue
  // none of their own.
  jobs::completion c{r.job.id, r.job.lease, std::move(t)};
  if (c.change.next == to::completed && r.job.id % 3 == 0 &&
      r.job.payload.find("follow_up_of") == std::string::npos) {
    c.follow_ups.push_back({.kind = r.job.kind, .queue = r.job.queue,
                            .payload = fmt::format(R"({{"follow_up_of":{}}})", r.job.id)});
    w_.count("follow-ups sent with a success");
  }
  // The outcome waits in the buffer for a round; the slot stays taken.
  buffer_.push_back(std::move(c));
  react(fsm_.attempts_ended(1, steady(now)));
  try_round();
}

}  // namespace spool::sim
