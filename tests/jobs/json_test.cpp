// The RFC 3339 times of jobs/json.hpp: round trips, garbage refused, every storable time written.
#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"

using namespace spool::jobs;

BOOST_AUTO_TEST_SUITE(json)

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

BOOST_AUTO_TEST_CASE(numbers_print_as_plain_decimals) {
  boost::json::value v = {{"age_s", 61.530952}, {"n", 3}, {"big", 1e20}, {"list", {0.5, 2}}};
  BOOST_TEST(spool::jobs::to_text(v) == R"({"age_s":61.530952,"n":3,"big":100000000000000000000,"list":[0.5,2]})");
}
