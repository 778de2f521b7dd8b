#include <boost/test/unit_test.hpp>

#include "kinds/ai/model_output.hpp"
#include "tests/kinds/support/reason_of.hpp"

using namespace spool::kinds::ai;
using spool::test::reason_of;

BOOST_AUTO_TEST_SUITE(response_parsing)

BOOST_AUTO_TEST_CASE(a_proper_analysis_is_read_and_normalised) {
  auto got = parse_analysis(R"({"summary":"  Ran 5 km. ","category":" Health","tags":["Running",
      "running","5k","  ","a","b","c","d","e","f","g"],"sentiment":"POSITIVE","extra":1})");
  BOOST_REQUIRE(std::holds_alternative<activity_analysis>(got));
  const auto& a = std::get<activity_analysis>(got);
  BOOST_TEST(a.summary == "Ran 5 km.");
  BOOST_TEST(a.category == "health");
  BOOST_TEST(a.sentiment == "positive");
  BOOST_REQUIRE_EQUAL(a.tags.size(), max_tags);  // duplicates and blanks dropped, then cut
  BOOST_TEST(a.tags[0] == "running");
  BOOST_TEST(a.tags[1] == "5k");
}

BOOST_AUTO_TEST_CASE(a_code_fence_around_the_json_is_tolerated) {
  auto got = parse_analysis("```json\n{\"summary\":\"s\",\"category\":\"work\",\"tags\":[],"
                            "\"sentiment\":\"neutral\"}\n```\n");
  BOOST_TEST(reason_of(got) == "");
  BOOST_TEST(strip_fences("```\n{}\n```") == "{}");
}

BOOST_AUTO_TEST_CASE(anything_but_the_asked_json_is_refused_with_the_reason) {
  BOOST_TEST(reason_of(parse_analysis("Sure! Here is the analysis you asked for."))
                 .starts_with("model output is not JSON"));
  BOOST_TEST(reason_of(parse_analysis("")) == "model output is empty");
  BOOST_TEST(reason_of(parse_analysis("[1,2]")) == "model output is JSON but not an object");
  BOOST_TEST(reason_of(parse_analysis(R"({"category":"work","tags":[],"sentiment":"neutral"})")) ==
             "model output lacks field 'summary'");
  BOOST_TEST(reason_of(parse_analysis(
                 R"({"summary":"s","category":"sports","tags":[],"sentiment":"neutral"})"))
                 .starts_with("model output field 'category' is 'sports', not one of work, learning"));
  BOOST_TEST(reason_of(parse_analysis(R"({"summary":"s","category":"work","tags":"a,b","sentiment":"neutral"})")) ==
             "model output field 'tags' is not an array");
  BOOST_TEST(reason_of(parse_analysis(R"({"summary":"s","category":"work","tags":[1],"sentiment":"neutral"})")) ==
             "model output field 'tags' holds something other than strings");
  BOOST_TEST(reason_of(parse_analysis(R"({"summary":"s","category":"work","tags":[],"sentiment":"mixed"})"))
                 .starts_with("model output field 'sentiment' is 'mixed'"));
  BOOST_TEST(reason_of(parse_analysis(R"({"summary":3,"category":"work","tags":[],"sentiment":"neutral"})")) ==
             "model output field 'summary' is not a string");
}

BOOST_AUTO_TEST_CASE(an_overlong_summary_is_cut_not_refused) {
  const std::string text(1000, 'x');
  auto got = parse_analysis(R"({"summary":")" + text + R"(","category":"work","tags":[],"sentiment":"neutral"})");
  BOOST_REQUIRE(std::holds_alternative<activity_analysis>(got));
  BOOST_TEST(std::get<activity_analysis>(got).summary.size() == max_summary_chars);
}

BOOST_AUTO_TEST_CASE(a_profile_is_read_and_checked) {
  auto got = parse_profile(R"({"interests":["Rust","hiking"],"activity_summary":"Codes and hikes.",
                               "traits":["curious"]})");
  BOOST_REQUIRE(std::holds_alternative<profile>(got));
  BOOST_TEST(std::get<profile>(got).interests.size() == 2u);
  BOOST_TEST(std::get<profile>(got).interests[0] == "Rust");  // phrases keep their case
  BOOST_TEST(reason_of(parse_profile(R"({"interests":[],"activity_summary":"x","traits":[]})")) ==
             "model output field 'interests' is empty");
  BOOST_TEST(reason_of(parse_profile(R"({"interests":["a"],"traits":[]})")) ==
             "model output lacks field 'activity_summary'");
  BOOST_TEST(reason_of(parse_profile(R"({"interests":["a"],"activity_summary":"x"})")) ==
             "model output lacks field 'traits'");
}

BOOST_AUTO_TEST_SUITE_END()
