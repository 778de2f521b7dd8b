// job_context::progress: a report is checked, its note cut to size, and handed to the runtime.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <spool/job_context.hpp>
#include <stdexcept>

#include "jobs/progress.hpp"

using namespace spool::jobs;

BOOST_AUTO_TEST_SUITE(progress_reports)

BOOST_AUTO_TEST_CASE(only_fractions_from_zero_to_one_are_reported) {
  BOOST_TEST(!check_progress(0.0));
  BOOST_TEST(!check_progress(0.5));
  BOOST_TEST(!check_progress(1.0));
  BOOST_TEST(check_progress(-0.01).has_value());
  BOOST_TEST(check_progress(1.01).has_value());
  BOOST_TEST(check_progress(std::numeric_limits<double>::quiet_NaN()).has_value());
  BOOST_TEST(check_progress(std::numeric_limits<double>::infinity()).has_value());
}

BOOST_AUTO_TEST_CASE(a_long_note_is_cut_between_characters) {
  BOOST_TEST(clip_progress_note("short") == "short");
  const std::string ascii(progress_note_max_bytes + 10, 'a');
  BOOST_TEST(clip_progress_note(ascii).size() == progress_note_max_bytes);
  // "é" is two bytes: with an odd prefix the limit falls inside one, which must not be split.
  std::string text = "x";
  while (text.size() < progress_note_max_bytes + 4) text += "\xc3\xa9";
  const auto cut = clip_progress_note(text);
  BOOST_TEST(cut.size() == progress_note_max_bytes - 1);
  BOOST_TEST((static_cast<unsigned char>(cut.back()) == 0xa9), "ends after a whole character");
}

BOOST_AUTO_TEST_CASE(the_context_hands_checked_reports_to_the_runtime) {
  claimed_job job;
  job.id = 7;
  boost::json::object payload;
  job_context::log_fn log;
  std::vector<new_job> follow_ups;
  std::vector<std::pair<double, std::string>> seen;
  job_context::progress_fn sink = [&](const claimed_job& j, double f, std::string note) {
    BOOST_TEST(j.id == 7);
    seen.emplace_back(f, std::move(note));
  };
  job_context ctx(job, payload, log, follow_ups, &sink);
  ctx.progress(0.5, "half");
  ctx.progress(1);
  BOOST_CHECK_THROW(ctx.progress(2, "too far"), std::invalid_argument);
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST(seen[0].first == 0.5);
  BOOST_TEST(seen[0].second == "half");
  BOOST_TEST(seen[1].first == 1.0);
  BOOST_TEST(seen[1].second == "");

  job_context without_runtime(job, payload, log, follow_ups);  // e.g. a handler's own unit test
  BOOST_CHECK_NO_THROW(without_runtime.progress(0.1, "nobody listens"));
}

BOOST_AUTO_TEST_SUITE_END()
