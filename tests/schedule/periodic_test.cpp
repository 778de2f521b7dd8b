// schedule::decide: which tick a periodic job enqueues now, after downtime, and never early.
#include "schedule/periodic.hpp"

#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"

using namespace spool::schedule;
using spool::jobs::parse_rfc3339;
using spool::jobs::to_rfc3339;

namespace {

time_point at(const char* t) { return *parse_rfc3339(t); }
std::string text(std::optional<time_point> t) { return t ? to_rfc3339(*t).substr(0, 19) : "none"; }
const duration grace = std::chrono::seconds(10);

}  // namespace

BOOST_AUTO_TEST_CASE(a_tick_is_due_once_its_time_has_come_and_not_before) {
  const auto c = cron::parse("*/5 * * * *");
  const auto last = at("2026-11-01T10:00:00Z");
  auto early = decide(c, catch_up::one, last, last, at("2026-11-01T10:04:59.999Z"), grace);
  BOOST_TEST(text(early.due) == "none");
  BOOST_TEST(text(early.next) == "2026-11-01T10:05:00");
  auto on_time = decide(c, catch_up::one, last, last, at("2026-11-01T10:05:00Z"), grace);
  BOOST_TEST(text(on_time.due) == "2026-11-01T10:05:00");
  BOOST_TEST(text(on_time.next) == "2026-11-01T10:10:00");
  // Once enqueued (the stored last tick moved on), the same tick is not due again.
  auto again = decide(c, catch_up::one, at("2026-11-01T10:05:00Z"), last, at("2026-11-01T10:05:01Z"), grace);
  BOOST_TEST(text(again.due) == "none");
}

BOOST_AUTO_TEST_CASE(after_downtime_catch_up_one_runs_the_latest_missed_tick_only) {
  const auto c = cron::parse("*/5 * * * *");
  auto s = decide(c, catch_up::one, at("2026-11-01T10:00:00Z"), at("2026-11-01T09:00:00Z"),
                  at("2026-11-01T12:07:00Z"), grace);
  BOOST_TEST(text(s.due) == "2026-11-01T12:05:00");
  BOOST_TEST(text(s.next) == "2026-11-01T12:10:00");
}

BOOST_AUTO_TEST_CASE(after_downtime_catch_up_none_skips_to_the_next_tick) {
  const auto c = cron::parse("*/5 * * * *");
  auto s = decide(c, catch_up::none, at("2026-11-01T10:00:00Z"), at("2026-11-01T09:00:00Z"),
                  at("2026-11-01T12:07:00Z"), grace);
  BOOST_TEST(text(s.due) == "none");
  BOOST_TEST(text(s.next) == "2026-11-01T12:10:00");
  // A tick a few seconds late (the service woke late) is not missed.
  auto late = decide(c, catch_up::none, at("2026-11-01T12:05:00Z"), at("2026-11-01T09:00:00Z"),
                     at("2026-11-01T12:10:03Z"), grace);
  BOOST_TEST(text(late.due) == "2026-11-01T12:10:00");
}

BOOST_AUTO_TEST_CASE(a_new_schedule_starts_counting_when_it_is_first_seen) {
  const auto c = cron::parse("0 * * * *");
  const auto since = at("2026-11-01T10:30:00Z");
  auto s = decide(c, catch_up::one, std::nullopt, since, at("2026-11-01T10:30:01Z"), grace);
  BOOST_TEST(text(s.due) == "none");  // 10:00 was before the schedule existed
  BOOST_TEST(text(s.next) == "2026-11-01T11:00:00");
  BOOST_TEST(text(decide(c, catch_up::one, std::nullopt, since, at("2026-11-01T11:00:00Z"), grace).due) ==
             "2026-11-01T11:00:00");
}

BOOST_AUTO_TEST_CASE(a_stored_tick_ahead_of_this_clock_is_not_repeated) {
  const auto c = cron::parse("* * * * *");
  auto s = decide(c, catch_up::one, at("2026-11-01T10:01:00Z"), at("2026-11-01T09:00:00Z"),
                  at("2026-11-01T10:00:59Z"), grace);
  BOOST_TEST(text(s.due) == "none");
  BOOST_TEST(text(s.next) == "2026-11-01T10:02:00");
}

BOOST_AUTO_TEST_CASE(tick_keys_name_the_schedule_and_the_instant) {
  BOOST_TEST(tick_key("nightly", at("2026-11-01T03:00:00Z")) == "periodic:nightly:1793502000000000");
}
