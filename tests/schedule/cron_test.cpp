// schedule::cron: parsing, ticks in a time zone, and daylight saving time as cron handles it.
#include "schedule/cron.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

#include "jobs/json.hpp"

using spool::schedule::cron;
using spool::jobs::parse_rfc3339;
using spool::jobs::to_rfc3339;

namespace {

// The next `n` ticks after `after`, as RFC 3339 UTC seconds ("2026-03-29T01:00:00").
std::vector<std::string> ticks(const char* expr, const char* zone, const char* after, int n) {
  const auto c = cron::parse(expr, zone);
  auto t = *parse_rfc3339(after);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto next = c.next(t);
    if (!next) break;
    t = *next;
    out.push_back(to_rfc3339(t).substr(0, 19));
  }
  return out;
}

using list = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_CASE(five_fields_tick_in_utc_by_default) {
  BOOST_TEST(ticks("15 3 * * *", "UTC", "2026-11-01T12:00:00Z", 2) ==
             (list{"2026-11-02T03:15:00", "2026-11-03T03:15:00"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_sixth_field_in_front_is_seconds) {
  BOOST_TEST(ticks("*/20 * * * * *", "UTC", "2026-11-01T00:00:10Z", 3) ==
             (list{"2026-11-01T00:00:20", "2026-11-01T00:00:40", "2026-11-01T00:01:00"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_fixed_time_follows_the_zones_offset) {
  // Europe/Berlin: CET (+1) in winter, CEST (+2) in summer.
  BOOST_TEST(ticks("0 3 * * *", "Europe/Berlin", "2026-01-10T12:00:00Z", 1) == (list{"2026-01-11T02:00:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(ticks("0 3 * * *", "Europe/Berlin", "2026-07-10T12:00:00Z", 1) == (list{"2026-07-11T01:00:00"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_fixed_time_skipped_by_spring_forward_runs_at_the_change) {
  // 2026-03-29 01:00Z: Berlin's clocks jump from 02:00 to 03:00; 02:30 does not happen that day.
  BOOST_TEST(ticks("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2) ==
             (list{"2026-03-29T01:00:00", "2026-03-30T00:30:00"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_fixed_time_repeated_by_fall_back_runs_once) {
  // 2026-10-25 01:00Z: Berlin's clocks go back from 03:00 to 02:00; 02:30 happens twice.
  BOOST_TEST(ticks("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2) ==
             (list{"2026-10-25T00:30:00", "2026-10-26T01:30:00"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_wall_clock_schedule_skips_the_lost_hour_and_repeats_the_gained_one) {
  BOOST_TEST(ticks("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:10:00Z", 3) ==
             (list{"2026-03-29T00:30:00", "2026-03-29T01:00:00", "2026-03-29T01:30:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(ticks("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:50:00Z", 5) ==
             (list{"2026-10-25T00:00:00", "2026-10-25T00:30:00", "2026-10-25T01:00:00",
                   "2026-10-25T01:30:00", "2026-10-25T02:00:00"}),
             boost::test_tools::per_element());
  // From inside the first pass of the repeated hour, the second pass still comes.
  BOOST_TEST(ticks("0 * * * *", "Europe/Berlin", "2026-10-25T00:40:00Z", 2) ==
             (list{"2026-10-25T01:00:00", "2026-10-25T02:00:00"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(restricted_day_of_month_and_weekday_match_either_as_cron_does) {
  BOOST_TEST(ticks("0 0 13 * FRI", "UTC", "2026-11-01T00:00:00Z", 4) ==
             (list{"2026-11-06T00:00:00", "2026-11-13T00:00:00", "2026-11-20T00:00:00",
                   "2026-11-27T00:00:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(ticks("0 9 * JAN-MAR MON-FRI", "UTC", "2026-12-31T10:00:00Z", 2) ==
             (list{"2027-01-01T09:00:00", "2027-01-04T09:00:00"}), boost::test_tools::per_element());
  BOOST_TEST(ticks("0 0 * * 7", "UTC", "2026-11-02T00:00:00Z", 1) == (list{"2026-11-08T00:00:00"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(macros_and_every) {
  BOOST_TEST(ticks("@hourly", "UTC", "2026-11-01T00:10:00Z", 1) == (list{"2026-11-01T01:00:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(ticks("@daily", "America/New_York", "2026-11-01T12:00:00Z", 1) == (list{"2026-11-02T05:00:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(ticks("@yearly", "UTC", "2026-11-01T12:00:00Z", 1) == (list{"2027-01-01T00:00:00"}),
             boost::test_tools::per_element());
  // Counted from the Unix epoch: every node computes the same ticks.
  BOOST_TEST(ticks("@every 30s", "UTC", "2026-11-01T00:00:10Z", 2) ==
             (list{"2026-11-01T00:00:30", "2026-11-01T00:01:00"}), boost::test_tools::per_element());
  BOOST_TEST(ticks("@every 1h30m", "Europe/Berlin", "2026-11-01T00:00:10Z", 2) ==
             (list{"2026-11-01T01:30:00", "2026-11-01T03:00:00"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_date_that_never_comes_has_no_tick) {
  BOOST_TEST(!cron::parse("0 0 30 2 *").next(*parse_rfc3339("2026-11-01T00:00:00Z")));
}

BOOST_AUTO_TEST_CASE(latest_finds_the_last_missed_tick_and_nothing_before_the_floor) {
  const auto c = cron::parse("*/5 * * * *");
  const auto at = *parse_rfc3339("2026-11-01T10:07:00Z");
  BOOST_TEST(to_rfc3339(*c.latest(at, *parse_rfc3339("2026-10-01T00:00:00Z"))) == "2026-11-01T10:05:00.000000Z");
  BOOST_TEST(!c.latest(at, *parse_rfc3339("2026-11-01T10:05:00Z")));
  BOOST_TEST(to_rfc3339(*c.latest(at, *parse_rfc3339("2026-11-01T10:04:59Z"))) == "2026-11-01T10:05:00.000000Z");
}

BOOST_AUTO_TEST_CASE(bad_expressions_say_which_field_and_why) {
  auto message = [](const char* expr, const char* zone = "UTC") -> std::string {
    try {
      cron::parse(expr, zone);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  BOOST_TEST(message("61 * * * *") == "minute: 61 is out of range 0-59");
  BOOST_TEST(message("* * *").starts_with("expected 5 fields"));
  BOOST_TEST(message("0 0 * * FOO") == "day of week: 'FOO' is not a number or a name");
  BOOST_TEST(message("5-1 * * * *") == "minute: range '5-1' runs backwards");
  BOOST_TEST(message("*/0 * * * *") == "minute: step '0' is not a number >= 1");
  BOOST_TEST(message("@often").starts_with("unknown macro '@often'"));
  BOOST_TEST(message("@every 0s") == "@every: the interval must be at least 1s");
  BOOST_TEST(message("0 * * * *", "Mars/Olympus").starts_with("unknown time zone 'Mars/Olympus'"));
}

BOOST_AUTO_TEST_CASE(a_leap_day_schedule_ticks_only_in_leap_years) {
  // 2100 is not a leap year (divisible by 100, not by 400); 2028 and 2032 are.
  BOOST_TEST(ticks("0 12 29 2 *", "UTC", "2026-11-01T00:00:00Z", 2) ==
             (list{"2028-02-29T12:00:00", "2032-02-29T12:00:00"}), boost::test_tools::per_element());
  BOOST_TEST(ticks("0 0 29 FEB *", "Europe/Berlin", "2028-02-29T00:00:00Z", 1) ==
             (list{"2032-02-28T23:00:00"}), boost::test_tools::per_element());
  BOOST_TEST(!cron::parse("0 0 29 2 *").next(*parse_rfc3339("2096-03-01T00:00:00Z")));
}
