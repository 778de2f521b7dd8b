// A producer's scheduling decisions (runtime/producer_fsm.hpp) with plain values: no timers, no
// threads, no store. Each test feeds events and times in and checks the step or reaction out.
#define BOOST_TEST_MODULE producer_fsm
#include <boost/test/unit_test.hpp>

#include "runtime/producer_fsm.hpp"

using namespace spool::runtime;
using namespace std::chrono_literals;
using fsm = producer_fsm;
using action = producer_fsm::action;

namespace {

const fsm::steady_time t0 = fsm::steady_time(std::chrono::hours(1));
const fsm::wall_time w0 = fsm::wall_time(std::chrono::hours(24 * 365 * 50));

// The wall clock moves with the steady one.
fsm::wall_time wall(fsm::steady_time t) {
  return w0 + std::chrono::duration_cast<spool::jobs::duration>(t - t0);
}

fsm::step next(fsm& m, fsm::steady_time t) { return m.next(t, wall(t)); }

// A producer of `concurrency` slots on one connection, polling every second.
fsm make(int concurrency, int rounds_allowed = 1, fsm::steady_duration poll = 1s) {
  return fsm({.concurrency = concurrency, .rounds_allowed = rounds_allowed, .poll = poll}, t0);
}

// Takes the round the machine sends now, and commits it with `claimed` jobs.
fsm::round send(fsm& m, fsm::steady_time t) {
  const auto s = next(m, t);
  BOOST_REQUIRE(s.what == action::send_round);
  m.outcomes_sent(m.buffered(), t);
  return s.sent;
}

// A producer whose first claim came back short: the queue is empty and nothing runs.
fsm idle(int concurrency) {
  auto m = make(concurrency);
  m.round_done(send(m, t0), 0, std::nullopt, t0);
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_new_producer_claims_every_slot_at_once_and_asks_for_the_next_due_time) {
  auto m = make(10);
  const auto s = next(m, t0);
  BOOST_TEST((s.what == action::send_round));
  BOOST_TEST(s.sent.claim == 10);
  BOOST_TEST(s.sent.want_next_due);
  BOOST_TEST(m.rounds_in_flight() == 1);
  // One round in flight on one connection: the next step is to wait for its end.
  const auto wait = next(m, t0);
  BOOST_TEST((wait.what == action::sleep));
  BOOST_TEST((wait.until == t0 + 1s));  // the fallback poll
}

BOOST_AUTO_TEST_CASE(an_idle_producer_leaves_a_standing_claim_and_sleeps_until_the_poll) {
  auto m = idle(10);
  BOOST_TEST(!m.may_have_work());
  const auto s = next(m, t0);
  BOOST_TEST((s.what == action::stand));
  BOOST_TEST(s.stand_limit == 10);
  BOOST_TEST(m.standing());
  const auto wait = next(m, t0);
  BOOST_TEST((wait.what == action::sleep));
  BOOST_TEST((wait.until == t0 + 1s));
}

BOOST_AUTO_TEST_CASE(the_standing_claim_is_at_most_one_rounds_worth) {
  auto m = idle(5000);
  BOOST_TEST(next(m, t0).stand_limit == max_round_jobs);
}

BOOST_AUTO_TEST_CASE(an_enqueue_signal_takes_the_standing_claim_back_once_then_claims) {
  auto m = idle(10);
  next(m, t0);  // stand
  next(m, t0);  // sleep
  auto r = m.job_due(wall(t0 + 1ms), t0 + 1ms, wall(t0 + 1ms));
  BOOST_TEST(r.withdraw);
  BOOST_TEST(!r.wake);  // the slots stay reserved for the claim until it is back
  BOOST_TEST(!m.job_due(wall(t0 + 2ms), t0 + 2ms, wall(t0 + 2ms)).withdraw);  // under way already
  r = m.stand_withdrawn(t0 + 3ms);
  BOOST_TEST(r.wake);
  const auto s = next(m, t0 + 3ms);
  BOOST_TEST((s.what == action::send_round));
  BOOST_TEST(s.sent.claim == 10);
}

BOOST_AUTO_TEST_CASE(a_standing_claim_made_full_looks_for_more_and_a_short_one_does_not) {
  auto m = idle(4);
  next(m, t0);  // stand
  next(m, t0);
  auto r = m.stand_made(4, t0 + 1ms);
  BOOST_TEST(m.running() == 4);
  BOOST_TEST(!m.standing());
  BOOST_TEST(m.may_have_work());
  BOOST_TEST(!r.withdraw);

  auto n = idle(4);
  next(n, t0);
  next(n, t0);
  n.stand_made(1, t0 + 1ms);
  BOOST_TEST(n.running() == 1);
  BOOST_TEST(!n.may_have_work());
  BOOST_TEST((next(n, t0 + 1ms).what == action::sleep));  // a job runs: no new standing claim
}

BOOST_AUTO_TEST_CASE(a_short_claim_ends_may_have_work_unless_a_signal_came_in_meanwhile) {
  auto m = make(10);
  auto r = send(m, t0);
  m.round_done(r, 3, std::nullopt, t0 + 1ms);
  BOOST_TEST(!m.may_have_work());

  auto n = make(10);
  r = send(n, t0);
  // An enqueue signal while the claim is under way: its job may have come after the claim.
  n.job_due(wall(t0), t0 + 500us, wall(t0 + 500us));
  n.round_done(r, 3, std::nullopt, t0 + 1ms);
  BOOST_TEST(n.may_have_work());

  auto full = make(10);
  r = send(full, t0);
  full.round_done(r, 10, std::nullopt, t0 + 1ms);
  BOOST_TEST(full.may_have_work());
  BOOST_TEST(full.running() == 10);
}

BOOST_AUTO_TEST_CASE(an_older_rounds_short_claim_does_not_end_may_have_work_after_a_later_claim) {
  auto m = make(10, 2);  // a pool of connections: two rounds in flight
  const auto first = send(m, t0);
  BOOST_TEST(first.claim == 10);
  m.round_done(first, 10, std::nullopt, t0 + 1ms);  // full: more may wait
  m.attempts_ended(6, t0 + 2ms);
  const auto second = send(m, t0 + 2ms);
  BOOST_TEST(second.claim == 6);
  m.attempts_ended(2, t0 + 3ms);
  const auto third = send(m, t0 + 3ms);
  BOOST_TEST(third.claim == 2);  // only the room the second round leaves
  m.round_done(second, 1, std::nullopt, t0 + 5ms);
  BOOST_TEST(m.may_have_work());  // the third claim, sent later, may still find some
  m.round_done(third, 0, std::nullopt, t0 + 6ms);
  BOOST_TEST(!m.may_have_work());
}

BOOST_AUTO_TEST_CASE(a_failed_round_keeps_its_outcomes_and_backs_off_50ms_doubling_to_5s) {
  auto m = make(10, 1, 1h);  // no poll in the way
  m.round_done(send(m, t0), 10, std::nullopt, t0);
  m.attempts_ended(10, t0 + 1ms);
  auto t = t0 + 1ms;
  const std::chrono::milliseconds expected[] = {50ms, 100ms, 200ms, 400ms, 800ms,
                                                1600ms, 3200ms, 5000ms, 5000ms};
  for (auto delay : expected) {
    const auto r = send(m, t);
    BOOST_TEST(m.buffered() == 0);
    BOOST_TEST(m.backoff() == delay);
    m.round_failed(r, 10, t + 1ms);
    BOOST_TEST(m.buffered() == 10);  // first in line for the next round
    const auto wait = next(m, t + 2ms);
    BOOST_TEST((wait.what == action::sleep));
    BOOST_TEST((*wait.until == t + 1ms + delay));
    t = t + 1ms + delay;
  }
  const auto r = send(m, t);
  m.round_done(r, 0, std::nullopt, t + 1ms);
  BOOST_TEST(m.backoff() == fsm::first_backoff);
}

BOOST_AUTO_TEST_CASE(an_ended_attempt_wakes_the_loop_only_when_its_step_comes_sooner) {
  auto m = make(100);
  m.round_done(send(m, t0), 90, std::nullopt, t0);  // short: the queue looks empty
  BOOST_TEST((next(m, t0).what == action::sleep));
  // One outcome of 100: the round waits up to 1 ms for more, sooner than the poll.
  BOOST_TEST(m.attempts_ended(1, t0 + 10ms).wake);
  const auto gather = next(m, t0 + 10ms);
  BOOST_TEST((gather.until == t0 + 10ms + default_max_delay));
  // More ends within that millisecond change nothing: the loop sleeps on.
  BOOST_TEST(!m.attempts_ended(1, t0 + 10ms + 200us).wake);
  BOOST_TEST(!m.attempts_ended(10, t0 + 10ms + 400us).wake);
  // Outcomes for half the slots make a round at once.
  BOOST_TEST(m.attempts_ended(40, t0 + 10ms + 600us).wake);
  const auto s = next(m, t0 + 10ms + 600us);
  BOOST_TEST((s.what == action::send_round));
  BOOST_TEST(s.sent.claim == 0);  // commits only: the queue looked empty
}

BOOST_AUTO_TEST_CASE(a_free_slot_is_claimed_at_once_while_more_work_may_wait) {
  auto m = make(100);
  m.round_done(send(m, t0), 100, std::nullopt, t0);  // full: there may be more
  next(m, t0);
  // Wanted since the start, so the round need not wait for more outcomes to gather.
  BOOST_TEST(m.attempts_ended(1, t0 + 10ms).wake);
  BOOST_TEST(next(m, t0 + 10ms).sent.claim == 1);
}

BOOST_AUTO_TEST_CASE(a_due_time_ahead_is_slept_towards_and_then_claimed_with_a_fresh_look_up) {
  auto m = make(10);
  const auto r = send(m, t0);
  BOOST_TEST(r.want_next_due);
  m.round_done(r, 0, wall(t0 + 300ms), t0 + 1ms);
  BOOST_TEST((next(m, t0 + 1ms).what == action::stand));
  const auto wait = next(m, t0 + 1ms);
  BOOST_TEST((*wait.until == t0 + 300ms));
  // A signal for a job due sooner than the sleep ends it.
  BOOST_TEST(m.job_due(wall(t0 + 100ms), t0 + 2ms, wall(t0 + 2ms)).wake);
  BOOST_TEST((*next(m, t0 + 2ms).until == t0 + 100ms));
  // A later one does not.
  BOOST_TEST(!m.job_due(wall(t0 + 200ms), t0 + 3ms, wall(t0 + 3ms)).wake);
  // Due: the standing claim comes back, and the round asks what is due next.
  BOOST_TEST((next(m, t0 + 100ms).what == action::withdraw));
  m.stand_withdrawn(t0 + 101ms);
  const auto s = next(m, t0 + 101ms);
  BOOST_TEST((s.what == action::send_round));
  BOOST_TEST(s.sent.want_next_due);
}

BOOST_AUTO_TEST_CASE(the_poll_looks_for_work_and_takes_the_standing_claim_back) {
  auto m = idle(10);
  next(m, t0);  // stand
  BOOST_TEST((next(m, t0).until == t0 + 1s));
  BOOST_TEST((next(m, t0 + 1s).what == action::withdraw));
  BOOST_TEST(m.may_have_work());
  BOOST_TEST((next(m, t0 + 1s).until == t0 + 2s));  // the claim's slots are not back yet
  m.stand_withdrawn(t0 + 1s + 1ms);
  BOOST_TEST(next(m, t0 + 1s + 1ms).sent.claim == 10);
}

BOOST_AUTO_TEST_CASE(a_paused_queue_commits_but_claims_nothing_until_resumed) {
  auto m = make(10);
  m.round_done(send(m, t0), 10, std::nullopt, t0);
  m.pause(true, t0 + 1ms);
  m.attempts_ended(10, t0 + 2ms);
  const auto s = next(m, t0 + 2ms);
  BOOST_TEST((s.what == action::send_round));
  BOOST_TEST(s.sent.claim == 0);
  m.outcomes_sent(10, t0 + 2ms);
  m.round_done(s.sent, 0, std::nullopt, t0 + 3ms);
  BOOST_TEST((next(m, t0 + 3ms).what == action::sleep));  // no standing claim either
  m.pause(false, t0 + 4ms);
  BOOST_TEST(next(m, t0 + 4ms).sent.claim == 10);
}

BOOST_AUTO_TEST_CASE(stop_waits_for_rounds_running_attempts_and_their_outcomes) {
  auto m = make(10);
  const auto r = send(m, t0);
  BOOST_TEST(m.stop().wake == false);  // the loop was not asleep
  BOOST_TEST((next(m, t0).what == action::sleep));  // a round in flight
  m.round_done(r, 2, std::nullopt, t0 + 1ms);  // it claimed before the stop reached the store
  BOOST_TEST((next(m, t0 + 1ms).what == action::sleep));  // two attempts run
  m.attempts_ended(2, t0 + 2ms);
  const auto last = next(m, t0 + 2ms);
  BOOST_TEST((last.what == action::send_round));
  BOOST_TEST(last.sent.claim == 0);  // their outcomes only
  m.outcomes_sent(2, t0 + 2ms);
  BOOST_TEST((next(m, t0 + 2ms).what == action::sleep));
  m.round_done(last.sent, 0, std::nullopt, t0 + 3ms);
  BOOST_TEST((next(m, t0 + 3ms).what == action::done));
}

BOOST_AUTO_TEST_CASE(stop_takes_the_standing_claim_back_and_waits_for_it) {
  auto m = idle(10);
  next(m, t0);  // stand
  next(m, t0);  // sleep
  const auto r = m.stop();
  BOOST_TEST(r.withdraw);
  BOOST_TEST(r.wake);
  BOOST_TEST((next(m, t0 + 1ms).what == action::sleep));
  m.stand_withdrawn(t0 + 2ms);
  BOOST_TEST((next(m, t0 + 2ms).what == action::done));
}

BOOST_AUTO_TEST_CASE(abandon_stops_waiting_for_handlers_but_not_for_outcomes) {
  auto m = make(10);
  m.round_done(send(m, t0), 3, std::nullopt, t0);
  m.stop();
  m.attempts_ended(1, t0 + 1ms);
  BOOST_TEST(m.abandon().wake == false);
  const auto s = next(m, t0 + 2ms);  // alone, after gathering for 1 ms
  BOOST_TEST((s.what == action::send_round));  // the outcome that did come is committed
  m.outcomes_sent(1, t0 + 2ms);
  m.round_done(s.sent, 0, std::nullopt, t0 + 3ms);
  BOOST_TEST((next(m, t0 + 3ms).what == action::done));  // two handlers still run
}

// Issue 20: a claim cut short by a full concurrency limit does not leave the queue for empty
// when the producer's own jobs end: the round that commits their outcomes claims again. A short
// claim without a limit behind it stays "empty" however many attempts end.
BOOST_AUTO_TEST_CASE(a_claim_held_back_by_a_limit_claims_again_when_an_attempt_ends) {
  for (bool held : {true, false}) {
    auto m = make(10, 1, 1h);  // no poll in the way
    m.round_done(send(m, t0), 2, std::nullopt, t0, held);  // 2 of 10: the rest held back, or none
    BOOST_TEST(!m.may_have_work());
    m.attempts_ended(2, t0 + 1ms);
    BOOST_TEST(m.may_have_work() == held);
    const auto r = send(m, t0 + 1ms);  // nothing runs: the outcomes go at once
    BOOST_TEST((r.claim > 0) == held, "held back " << held << ": claim " << r.claim);
  }
}
