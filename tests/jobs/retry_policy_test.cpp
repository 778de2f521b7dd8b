#define BOOST_TEST_MODULE jobs_domain
#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"
#include "jobs/lifecycle.hpp"
#include "jobs/validation.hpp"
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

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(doubles_per_attempt_until_the_cap) {
  auto p = policy(1s, 60s, 0);
  BOOST_TEST(p.nominal_delay(1).count() == duration(1s).count());
  BOOST_TEST(p.nominal_delay(2).count() == duration(2s).count());
  BOOST_TEST(p.nominal_delay(3).count() == duration(4s).count());
  BOOST_TEST(p.nominal_delay(6).count() == duration(32s).count());
  BOOST_TEST(p.nominal_delay(7).count() == duration(60s).count());
  BOOST_TEST(p.nominal_delay(500).count() == duration(60s).count());  // no overflow
}

BOOST_AUTO_TEST_CASE(jitter_stays_within_its_band_and_is_seeded) {
  auto p = policy(10s, 1h, 0.2);
  std::mt19937_64 a(42), b(42);
  double lo = 1e18, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    auto d = p.delay(3, a);
    BOOST_TEST(d.count() == p.delay(3, b).count());  // same seed, same delays
    lo = std::min(lo, double(d.count()));
    hi = std::max(hi, double(d.count()));
  }
  const double nominal = double(duration(40s).count());
  BOOST_TEST(lo >= nominal * 0.8);
  BOOST_TEST(hi <= nominal * 1.2);
  BOOST_TEST(hi - lo > nominal * 0.3);  // it really spreads
}

BOOST_AUTO_TEST_CASE(jitter_never_exceeds_the_cap) {
  auto p = policy(1s, 5s, 0.5);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) BOOST_TEST(p.delay(10, rng).count() <= duration(5s).count());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(success_completes) {
  std::mt19937_64 rng(1);
  auto t = decide(outcome::success(), 1, 3, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::completed);
  BOOST_TEST(t.attempt == 1);
  BOOST_TEST(!t.error);
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

BOOST_AUTO_TEST_CASE(cancel_is_final_and_keeps_its_reason) {
  std::mt19937_64 rng(1);
  auto t = decide(outcome::cancel("by operator"), 2, 5, policy(1s, 1h, 0), t0, rng);
  BOOST_TEST(t.next == to::cancelled);
  BOOST_TEST(t.note == "by operator");
  BOOST_TEST(!t.error);
}

BOOST_AUTO_TEST_CASE(waiting_states_follow_due_time_and_attempts) {
  BOOST_TEST(ready_state(true, 0) == state::available);
  BOOST_TEST(ready_state(true, 3) == state::available);
  BOOST_TEST(ready_state(false, 0) == state::scheduled);
  BOOST_TEST(ready_state(false, 2) == state::retrying);
  for (auto s : {state::scheduled, state::available, state::running, state::retrying,
                 state::completed, state::cancelled, state::dead})
    BOOST_TEST((parse_state(to_string(s)) == s));
  BOOST_TEST(!parse_state("bogus"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(rejects_bad_jobs_with_a_reason) {
  new_job ok;
  ok.kind = "email";
  BOOST_TEST(!check(ok));
  auto bad = [&](auto mutate, std::string_view needle) {
    new_job j = ok;
    mutate(j);
    auto why = check(j);
    BOOST_REQUIRE(why);
    BOOST_TEST(why->find(needle) != std::string::npos, *why);
  };
  bad([](new_job& j) { j.kind = ""; }, "kind is missing");
  bad([](new_job& j) { j.kind = "bad kind"; }, "kind");
  bad([](new_job& j) { j.queue = "q/1"; }, "queue");
  bad([](new_job& j) { j.payload = "{bad"; }, "not valid JSON");
  bad([](new_job& j) { j.payload = "[1,2]"; }, "JSON object");
  bad([](new_job& j) { j.payload = std::string(2 << 20, ' '); }, "1 MiB");
  bad([](new_job& j) { j.max_attempts = -1; }, "max_attempts");
  bad([](new_job& j) { j.unique_key = ""; }, "unique_key");
}

BOOST_AUTO_TEST_CASE(rfc3339_round_trips_and_rejects_garbage) {
  auto t = parse_rfc3339("2026-11-28T14:00:00.123456Z");
  BOOST_REQUIRE(t);
  BOOST_TEST(to_rfc3339(*t) == "2026-11-28T14:00:00.123456Z");
  auto offset = parse_rfc3339("2026-11-28T16:00:00+02:00");
  BOOST_REQUIRE(offset);
  BOOST_TEST(to_rfc3339(*offset) == "2026-11-28T14:00:00.000000Z");
  BOOST_TEST(parse_rfc3339("2028-02-29T00:00:00Z").has_value());  // a leap day
  for (auto s : {"", "2026-11-28", "2026-13-01T00:00:00Z", "2026-11-28T14:00:00", "tomorrow",
                 "2027-02-29T00:00:00Z", "2027-04-31T00:00:00Z",
                 "2026-11-28T14:00:00Zjunk"})
    BOOST_TEST(!parse_rfc3339(s), s);
}

BOOST_AUTO_TEST_CASE(rfc3339_covers_every_stored_time) {
  // Past 2262 (system_clock's nanoseconds end there), before 1970, and the ends of the range a
  // damaged row can hold (UBSan found overflows in the old conversion at both).
  BOOST_TEST(to_rfc3339(*parse_rfc3339("2999-01-01T00:00:00Z")) == "2999-01-01T00:00:00.000000Z");
  BOOST_TEST(to_rfc3339(time_point(std::chrono::microseconds(-1))) == "1969-12-31T23:59:59.999999Z");
  BOOST_TEST(to_rfc3339(time_point::min()).ends_with(".224192Z"));
  BOOST_TEST(to_rfc3339(time_point::max()).ends_with(".775807Z"));
}

BOOST_AUTO_TEST_SUITE_END()
