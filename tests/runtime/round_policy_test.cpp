// When a producer's round goes and how much it claims (runtime/round_policy.hpp), with a fixed
// clock: no sockets, no threads.
#define BOOST_TEST_MODULE round_policy
#include <boost/test/unit_test.hpp>

#include "runtime/completion_batch.hpp"
#include "runtime/round_policy.hpp"

using namespace spool::runtime;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {
const steady::time_point t0 = steady::time_point(std::chrono::hours(1));

round_state queue(int concurrency, int handlers, int buffered) {
  round_state s;
  s.concurrency = concurrency;
  s.handlers = handlers;
  s.buffered = buffered;
  s.oldest_buffered = t0;
  s.wanted_since = t0;
  return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_idle_queue_claims_every_slot_at_once) {
  const auto plan = plan_round(queue(100, 0, 0), t0);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 100);
}

BOOST_AUTO_TEST_CASE(nothing_to_do_sends_nothing_and_waits_for_an_event) {
  auto s = queue(100, 0, 0);
  s.may_have_work = false;
  const auto plan = plan_round(s, t0 + 1h);
  BOOST_TEST(!plan.send);
  BOOST_TEST(!plan.recheck_at.has_value());
}

BOOST_AUTO_TEST_CASE(the_last_outcome_goes_at_once_when_nothing_else_runs) {
  auto s = queue(100, 0, 1);
  s.may_have_work = false;
  const auto plan = plan_round(s, t0);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 0);  // the queue looked empty: completions only
}

BOOST_AUTO_TEST_CASE(a_few_outcomes_wait_for_more_while_others_run_but_not_past_the_delay) {
  auto s = queue(100, 90, 10);
  s.may_have_work = false;
  auto plan = plan_round(s, t0 + 200us);
  BOOST_TEST(!plan.send);
  BOOST_REQUIRE(plan.recheck_at.has_value());
  BOOST_TEST((*plan.recheck_at == t0 + default_max_delay));
  plan = plan_round(s, t0 + default_max_delay);
  BOOST_TEST(plan.send);
}

BOOST_AUTO_TEST_CASE(half_the_slots_make_a_round_at_once) {
  auto s = queue(100, 50, 50);
  const auto plan = plan_round(s, t0);
  BOOST_TEST(plan.send);
  // The round commits 50 outcomes and claims into their slots as well as the free ones.
  BOOST_TEST(plan.claim == 50);
}

BOOST_AUTO_TEST_CASE(a_claim_into_few_free_slots_waits_at_most_the_delay) {
  auto s = queue(100, 80, 0);
  s.wanted_since = t0 + 300us;  // an enqueue signal
  auto plan = plan_round(s, t0 + 500us);
  BOOST_TEST(!plan.send);
  BOOST_TEST((*plan.recheck_at == t0 + 300us + default_max_delay));
  plan = plan_round(s, t0 + 300us + default_max_delay);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 20);
}

BOOST_AUTO_TEST_CASE(a_full_queue_claims_nothing_and_commits_when_enough_gathered) {
  auto plan = plan_round(queue(100, 100, 0), t0 + 1h);
  BOOST_TEST(!plan.send);
  plan = plan_round(queue(10, 5, 5), t0);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 5);
}

BOOST_AUTO_TEST_CASE(a_stopping_or_paused_queue_only_commits) {
  auto s = queue(100, 3, 2);
  s.claiming = false;
  auto plan = plan_round(s, t0 + default_max_delay);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 0);
  s.buffered = 0;
  plan = plan_round(s, t0 + 1h);
  BOOST_TEST(!plan.send);
}

BOOST_AUTO_TEST_CASE(concurrency_one_sends_every_outcome_and_claim_alone) {
  auto plan = plan_round(queue(1, 0, 1), t0);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == 1);
  plan = plan_round(queue(1, 1, 0), t0);
  BOOST_TEST(!plan.send);
}

BOOST_AUTO_TEST_CASE(a_round_claims_and_commits_at_most_max_round_jobs) {
  auto plan = plan_round(queue(100000, 0, 0), t0);
  BOOST_TEST(plan.send);
  BOOST_TEST(plan.claim == max_round_jobs);
  plan = plan_round(queue(100000, 99000, max_round_jobs), t0);  // half the slots never fill
  BOOST_TEST(plan.send);
}

BOOST_AUTO_TEST_CASE(a_round_takes_at_most_one_completion_per_job_and_at_most_the_limit) {
  using item = std::pair<std::int64_t, int>;  // job id, which completion of it
  std::vector<item> buffer{{1, 0}, {2, 0}, {1, 1}, {3, 0}, {4, 0}};
  auto id_of = [](const item& i) { return i.first; };
  auto batch = take_batch(buffer, id_of, 3);
  BOOST_TEST((batch == std::vector<item>{{1, 0}, {2, 0}, {3, 0}}));
  BOOST_TEST((buffer == std::vector<item>{{1, 1}, {4, 0}}));  // the later one of job 1 waits
  batch = take_batch(buffer, id_of);
  BOOST_TEST((batch == std::vector<item>{{1, 1}, {4, 0}}));
  BOOST_TEST(buffer.empty());
  buffer = {{5, 0}, {6, 0}, {7, 0}};
  batch = take_batch(buffer, id_of, 2);
  BOOST_TEST((batch == std::vector<item>{{5, 0}, {6, 0}}));
  BOOST_TEST((buffer == std::vector<item>{{7, 0}}));
}
