// jobs::decide: what an attempt's outcome makes of the job, at a fixed time and seed.
#include <boost/test/unit_test.hpp>
#include <random>

#include "jobs/lifecycle.hpp"
#include "tests/support/printers.hpp"

using namespace spool::jobs;
using namespace std::chrono_literals;
using to = transition::to;

namespace {
retry_policy policy(duration base, duration cap, double jitter, int max_attempts = 25) {
  retry_policy p;
  p.base = base;
  p.cap = cap;
  p.jitter = jitter;
  p.max_attempts = max_attempts;
  return p;
}
const time_point t0 = time_point(std::chrono::seconds(1'800'000'000));
}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(success_completes) {
  std::mt19937_64 rng(1);
  auto t = decide(outcome::success(), 1, 3, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::completed);
  BOOST_TEST(t.attempt == 1);
  BOOST_TEST(!t.error);
}

BOOST_AUTO_TEST_CASE(a_success_carries_its_result_within_the_limit) {
  std::mt19937_64 rng(1);
  const auto ok = check_result(outcome::success(R"({"a":[1,2]})"), 64);
  BOOST_TEST((ok.kind == outcome::type::succeeded));
  auto t = decide(ok, 2, 3, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::completed);
  BOOST_TEST(t.result == R"({"a":[1,2]})");
  BOOST_TEST(decide(outcome::success(), 1, 3, policy(1s, 1h, 0), t0, rng).result.empty());
  // Exactly at the limit is allowed; one byte over fails the attempt, as JSON that is not.
  BOOST_TEST((check_result(outcome::success(R"("abc")"), 5).kind == outcome::type::succeeded));
  const auto big = check_result(outcome::success(R"("abcd")"), 5);
  BOOST_TEST((big.kind == outcome::type::failed));
  BOOST_TEST(big.message == "the job's result is 6 bytes, over the limit of 5 (setting result_max_bytes)");
  BOOST_TEST(decide(big, 1, 3, policy(1s, 1h, 0), t0, rng).next == to::retry);
  const auto bad = check_result(outcome::success("{not json"), 64);
  BOOST_TEST((bad.kind == outcome::type::failed));
  BOOST_TEST(bad.message.starts_with("the job's result is not valid JSON: "));
  // Other outcomes pass through untouched.
  BOOST_TEST(check_result(outcome::error("e"), 1).message == "e");
}

BOOST_AUTO_TEST_CASE(failures_retry_with_backoff_until_attempts_run_out) {
  std::mt19937_64 rng(1);
  auto p = policy(2s, 1h, 0, 3);
  auto first = decide(outcome::error("e1"), 1, 0, p, t0, rng);
  BOOST_TEST(first.next == to::retry);
  BOOST_TEST((first.run_at - t0).count() == duration(2s).count());
  BOOST_REQUIRE(first.error);
  BOOST_TEST(first.error->attempt == 1);
  BOOST_TEST(first.error->message == "e1");
  auto second = decide(outcome::error("e2"), 2, 0, p, t0, rng);
  BOOST_TEST((second.run_at - t0).count() == duration(4s).count());
  auto last = decide(outcome::error("e3"), 3, 0, p, t0, rng);
  BOOST_TEST(last.next == to::dead);
  BOOST_TEST(last.note == "e3");
  BOOST_REQUIRE(last.error);
}

BOOST_AUTO_TEST_CASE(per_job_max_attempts_overrides_the_policy) {
  std::mt19937_64 rng(1);
  auto p = policy(1s, 1h, 0, 25);
  BOOST_TEST(decide(outcome::error("x"), 2, 2, p, t0, rng).next == to::dead);
  BOOST_TEST(decide(outcome::error("x"), 2, 0, p, t0, rng).next == to::retry);
}

BOOST_AUTO_TEST_CASE(permanent_errors_go_straight_to_the_dead_letter_queue) {
  std::mt19937_64 rng(1);
  auto t = decide(outcome::permanent("bad payload"), 1, 25, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::dead);
  BOOST_REQUIRE(t.error);
  BOOST_TEST(t.error->message == "bad payload");
}

BOOST_AUTO_TEST_CASE(snooze_and_shutdown_give_the_attempt_back) {
  std::mt19937_64 rng(1);
  auto snooze = decide(outcome::snooze(30s), 4, 5, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(snooze.next == to::requeue);
  BOOST_TEST(snooze.attempt == 3);
  BOOST_TEST((snooze.run_at - t0).count() == duration(30s).count());
  BOOST_TEST(!snooze.error);
  auto stop = decide(outcome::interrupt(), 1, 5, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(stop.next == to::requeue);
  BOOST_TEST(stop.attempt == 0);
  BOOST_TEST(stop.run_at.time_since_epoch().count() == t0.time_since_epoch().count());
  BOOST_TEST(!stop.error);
}

BOOST_AUTO_TEST_CASE(a_snooze_carries_the_jobs_tally_with_it) {
  std::mt19937_64 rng(1);
  auto first = decide(outcome::snooze(30s), 1, 5, policy(1s, 1h, 0), t0, rng);
  BOOST_REQUIRE(first.snoozed);
  BOOST_TEST(first.snoozed->count == 1);
  BOOST_TEST(first.snoozed->total.count() == duration(30s).count());
  auto later = decide(outcome::snooze(10s), 1, 5, policy(1s, 1h, 0), t0, rng, {7, 200s}, {});
  BOOST_REQUIRE(later.snoozed);
  BOOST_TEST(later.snoozed->count == 8);
  BOOST_TEST(later.snoozed->total.count() == duration(210s).count());
  // A shutdown's requeue is no snooze: nothing to record.
  BOOST_TEST(!decide(outcome::interrupt(), 1, 5, policy(1s, 1h, 0), t0, rng, {7, 200s}, {}).snoozed);
}

BOOST_AUTO_TEST_CASE(a_snooze_past_max_snoozes_fails_the_attempt) {
  std::mt19937_64 rng(1);
  const snooze_ceiling ceiling{.max_snoozes = 100, .max_total = 24h};
  // The 100th snooze is allowed, the 101st is not.
  auto last = decide(outcome::snooze(1s), 2, 5, policy(1s, 1h, 0), t0, rng, {99, 99s}, ceiling);
  BOOST_TEST(last.next == to::requeue);
  BOOST_TEST(last.attempt == 1);
  auto over = decide(outcome::snooze(1s), 2, 5, policy(1s, 1h, 0), t0, rng, {100, 100s}, ceiling);
  BOOST_TEST(over.next == to::retry);
  BOOST_TEST(over.attempt == 2);  // the attempt is consumed
  BOOST_TEST(!over.snoozed);      // the tally stays where it was
  BOOST_REQUIRE(over.error);
  BOOST_TEST(over.error->message == "snoozed 101 times, more than max_snoozes 100");
  BOOST_TEST((over.run_at - t0).count() == duration(2s).count());  // the retry policy's delay
  // On the last attempt, into the dead-letter queue with that error.
  auto dead = decide(outcome::snooze(1s), 5, 5, policy(1s, 1h, 0), t0, rng, {100, 100s}, ceiling);
  BOOST_TEST(dead.next == to::dead);
  BOOST_TEST(dead.note == "snoozed 101 times, more than max_snoozes 100");
  // max_snoozes 0: no snooze at all.
  auto none = decide(outcome::snooze(1s), 1, 5, policy(1s, 1h, 0), t0, rng, {}, {.max_snoozes = 0});
  BOOST_TEST(none.next == to::retry);
}

BOOST_AUTO_TEST_CASE(a_snooze_past_max_snooze_total_fails_the_attempt) {
  std::mt19937_64 rng(1);
  const snooze_ceiling ceiling{.max_snoozes = 100, .max_total = 1h};
  auto within = decide(outcome::snooze(10min), 1, 3, policy(1s, 1h, 0), t0, rng, {3, 50min}, ceiling);
  BOOST_TEST(within.next == to::requeue);  // exactly the total allowed
  auto over = decide(outcome::snooze(601s), 1, 3, policy(1s, 1h, 0), t0, rng, {3, 50min}, ceiling);
  BOOST_TEST(over.next == to::retry);
  BOOST_REQUIRE(over.error);
  BOOST_TEST(over.error->message == "snoozed for 3601 s in all, more than max_snooze_total_s 3600");
}

BOOST_AUTO_TEST_CASE(cancel_is_final_and_keeps_its_reason) {
  std::mt19937_64 rng(1);
  auto t = decide(outcome::cancel("by operator"), 2, 5, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::cancelled);
  BOOST_TEST(t.note == "by operator");
  BOOST_TEST(!t.error);
}

BOOST_AUTO_TEST_SUITE_END()
