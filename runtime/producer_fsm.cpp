#include "runtime/producer_fsm.hpp"

#include <algorithm>
#include <utility>

namespace spool::runtime {
using namespace std::chrono_literals;

namespace {

using steady_time = producer_fsm::steady_time;

// Where a due time falls on the steady clock. Capped before it becomes steady_clock's
// nanoseconds: a time more than 292 years ahead would overflow them (and the poll wakes the
// producer long before).
steady_time steady_at(jobs::time_point due, steady_time now, jobs::time_point wall_now) {
  const auto ahead = std::clamp<jobs::duration>(due - wall_now, jobs::duration::zero(), 24h);
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(ahead);
}

std::optional<steady_time> earliest(std::optional<steady_time> a, steady_time b) {
  return a ? std::min(*a, b) : b;
}

}  // namespace

producer_fsm::producer_fsm(settings s, steady_time now) : settings_(s), wanted_since_(now) {}

round_state producer_fsm::state() const {
  return {.concurrency = settings_.concurrency,
          .handlers = running_,
          .buffered = buffered_,
          .reserved = reserved_,
          .oldest_buffered = oldest_buffered_,
          .claiming = !stopping_ && !paused_,
          .may_have_work = may_have_work_,
          .wanted_since = wanted_since_};
}

bool producer_fsm::done() const {
  return stopping_ && rounds_ == 0 && !standing_ && buffered_ == 0 &&
         (running_ == 0 || abandoning_);
}

producer_fsm::step producer_fsm::next(steady_time now, wall_time wall_now) {
  sleeping_ = false;  // asked again: the loop is awake
  if (done()) return {.what = action::done};
  bool withdraw = false;
  if (settings_.poll) {
    if (!next_poll_) {
      next_poll_ = now + *settings_.poll;
    } else if (now >= *next_poll_) {
      next_poll_ = now + *settings_.poll;
      withdraw |= poll(now).withdraw;
    }
  }
  if (next_due_ && *next_due_ <= wall_now) {
    next_due_.reset();
    refresh_due_ = true;  // the store knows what is due after it
    withdraw |= wake_for_work(now);
  }
  if (withdraw) return {.what = action::withdraw};

  auto wake_at = next_poll_;
  if (rounds_ == settings_.rounds_allowed) {
    // A round's end asks again.
  } else if (now >= backoff_until_) {
    const auto plan = plan_round(state(), now);
    if (plan.send) return {.what = action::send_round, .sent = send(plan.claim)};
    if (plan.recheck_at) wake_at = earliest(wake_at, *plan.recheck_at);
    // Idle: the next enqueue's transaction can claim for it (db_executor::stand), so the job
    // starts without a round of its own. Anything else it must do first takes the claim back.
    if (!standing_ && running_ == 0 && buffered_ == 0 && rounds_ == 0 && !may_have_work_ &&
        !stopping_ && !paused_) {
      standing_ = true;
      stand_limit_ = std::min(settings_.concurrency, max_round_jobs);
      reserved_ += stand_limit_;
      return {.what = action::stand, .stand_limit = stand_limit_};
    }
  } else {
    wake_at = earliest(wake_at, backoff_until_);
  }
  if (next_due_ && !stopping_) wake_at = earliest(wake_at, steady_at(*next_due_, now, wall_now));
  sleeping_ = true;
  sleep_until_ = wake_at.value_or(steady_time::max());
  return {.what = action::sleep, .until = wake_at};
}

producer_fsm::round producer_fsm::send(int claim) {
  const round r{.claim = claim,
                .want_next_due = refresh_due_ && !refreshing_due_ && claim > 0,
                .claim_round = claim > 0 ? ++claim_rounds_ : 0,
                .wakes_before = wake_seq_};
  if (r.want_next_due) refreshing_due_ = true;
  ++rounds_;
  reserved_ += claim;
  return r;
}

producer_fsm::reaction producer_fsm::poll(steady_time now) {
  refresh_due_ = true;
  const bool withdraw = wake_for_work(now);
  return {.withdraw = withdraw, .wake = wake_sooner(now)};
}

producer_fsm::reaction producer_fsm::job_due(wall_time due, steady_time now, wall_time wall_now) {
  reaction out;
  if (due <= wall_now)
    out.withdraw = wake_for_work(now);
  else if (!next_due_ || due < *next_due_)
    next_due_ = due;
  if (sleeping_ && next_due_ && !stopping_ && steady_at(*next_due_, now, wall_now) < sleep_until_) {
    sleeping_ = false;
    out.wake = true;
  } else {
    out.wake = wake_sooner(now);
  }
  return out;
}

void producer_fsm::outcomes_sent(int outcomes, steady_time now) {
  buffered_ -= outcomes;
  if (buffered_ > 0) oldest_buffered_ = now;  // the rest have waited since, as far as the plan goes
}

producer_fsm::reaction producer_fsm::round_done(const round& r, int claimed,
                                                std::optional<wall_time> next_due,
                                                steady_time now, bool held_back) {
  reaction out;
  backoff_ = first_backoff;
  if (r.want_next_due) {
    refreshing_due_ = refresh_due_ = false;
    if (next_due && (!next_due_ || *next_due < *next_due_)) next_due_ = next_due;
  }
  if (r.claim > 0) {
    // A claim that came back short says the queue is empty, unless a later claim or a wake-up
    // since says otherwise.
    if (claimed == r.claim)
      out.withdraw = wake_for_work(now);
    else if (r.claim_round == claim_rounds_ && wake_seq_ == r.wakes_before)
      may_have_work_ = false;
    held_back_ = held_back && claimed < r.claim;
  }
  running_ += claimed;
  --rounds_;
  reserved_ -= r.claim;
  out.wake = std::exchange(sleeping_, false);
  return out;
}

producer_fsm::reaction producer_fsm::round_failed(const round& r, int returned, steady_time now) {
  // A locked or unreachable database: the outcomes go first in the next round, after a backoff.
  if (r.want_next_due) refreshing_due_ = false;
  if (buffered_ == 0) oldest_buffered_ = now;
  buffered_ += returned;
  backoff_until_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, max_backoff);
  --rounds_;
  reserved_ -= r.claim;
  return {.wake = std::exchange(sleeping_, false)};
}

producer_fsm::reaction producer_fsm::attempts_ended(int n, steady_time now) {
  running_ -= n;
  if (buffered_ == 0) oldest_buffered_ = now;
  buffered_ += n;
  // Jobs held back by a limit may fit now: the round that commits these outcomes claims too.
  if (held_back_ && !may_have_work_) {
    may_have_work_ = true;
    wanted_since_ = now;
  }
  return {.wake = wake_sooner(now)};
}

producer_fsm::reaction producer_fsm::stand_made(int claimed, steady_time now) {
  const bool full = claimed == stand_limit_;
  stand_resolved();
  running_ += claimed;
  const bool withdraw = full && wake_for_work(now);  // a full claim: there may be more
  return {.withdraw = withdraw, .wake = wake_sooner(now)};
}

producer_fsm::reaction producer_fsm::stand_withdrawn(steady_time now) {
  stand_resolved();
  return {.wake = wake_sooner(now)};
}

producer_fsm::reaction producer_fsm::pause(bool paused, steady_time now) {
  paused_ = paused;
  if (paused) return {.withdraw = take_back()};
  const bool withdraw = wake_for_work(now);  // the queue may have filled meanwhile
  return {.withdraw = withdraw, .wake = wake_sooner(now)};
}

producer_fsm::reaction producer_fsm::stop() {
  stopping_ = true;
  return {.withdraw = take_back(), .wake = std::exchange(sleeping_, false)};
}

producer_fsm::reaction producer_fsm::abandon() {
  abandoning_ = true;
  return {.wake = std::exchange(sleeping_, false)};
}

bool producer_fsm::wake_for_work(steady_time now) {
  ++wake_seq_;
  if (!may_have_work_) {
    may_have_work_ = true;
    wanted_since_ = now;
  }
  return take_back();
}

bool producer_fsm::take_back() {
  if (!standing_ || withdrawing_) return false;
  withdrawing_ = true;
  return true;
}

void producer_fsm::stand_resolved() {
  standing_ = withdrawing_ = false;
  reserved_ -= stand_limit_;
  stand_limit_ = 0;
}

// Whether the sleeping loop's next step may come sooner than the time it sleeps until: only
// then is it woken, so that most attempts' ends cost the loop nothing.
bool producer_fsm::wake_sooner(steady_time now) {
  if (!sleeping_) return false;
  bool sooner = done();
  if (!sooner && rounds_ < settings_.rounds_allowed && now >= backoff_until_) {
    const auto plan = plan_round(state(), now);
    sooner = plan.send || (plan.recheck_at && *plan.recheck_at < sleep_until_);
  }
  if (sooner) sleeping_ = false;
  return sooner;
}

}  // namespace spool::runtime
