#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"
#include "kinds/ai/local_analyzer.hpp"
#include "kinds/ai/model_output.hpp"

using namespace spool;
using namespace spool::kinds::ai;
namespace json = boost::json;

namespace {

activity act(std::string text, std::string type = "note") {
  activity a;
  a.user_id = "u";
  a.activity_id = "a";
  a.type = std::move(type);
  a.text = std::move(text);
  a.occurred_at = *jobs::parse_rfc3339("2026-11-28T14:00:00Z");
  return a;
}

kinds::ai::activity_result result_of(const activity_analysis& a, int day) {
  kinds::ai::activity_result r;
  r.activity_id = "a" + std::to_string(day);
  r.type = "note";
  r.occurred_at = *jobs::parse_rfc3339("2026-11-" + std::string(day < 10 ? "0" : "") +
                                       std::to_string(day) + "T10:00:00Z");
  r.analysis = json::serialize(to_json(a));
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(local_analyzer)

BOOST_AUTO_TEST_CASE(the_same_text_always_gives_the_same_analysis) {
  const auto a = act("Spent the evening reading about Rust. The borrow checker finally clicked!");
  auto x = analyze_locally(a), y = analyze_locally(a);
  BOOST_TEST(json::serialize(to_json(x)) == json::serialize(to_json(y)));
}

BOOST_AUTO_TEST_CASE(categories_follow_keyword_rules_and_the_most_specific_stem_wins) {
  BOOST_TEST(analyze_locally(act("Went to the gym for a workout, then a 5k run")).category == "health");
  BOOST_TEST(analyze_locally(act("Team meeting about the project deadline")).category == "work");
  BOOST_TEST(analyze_locally(act("Booked a flight and a hotel for the vacation")).category == "travel");
  BOOST_TEST(analyze_locally(act("Paid the electricity bill and checked my budget")).category == "finance");
  BOOST_TEST(analyze_locally(act("Nothing in particular happened")).category == "other");
  // The producer's own type counts double: one word of text does not outvote it.
  BOOST_TEST(analyze_locally(act("New shoes, arrived after the meeting", "purchase")).category == "shopping");
}

BOOST_AUTO_TEST_CASE(sentiment_comes_from_a_lexicon_with_negation) {
  BOOST_TEST(analyze_locally(act("I loved the concert, it was great")).sentiment == "positive");
  BOOST_TEST(analyze_locally(act("The flight was delayed and I am exhausted")).sentiment == "negative");
  BOOST_TEST(analyze_locally(act("The talk was not good")).sentiment == "negative");
  BOOST_TEST(analyze_locally(act("Walked to the station")).sentiment == "neutral");
}

BOOST_AUTO_TEST_CASE(tags_are_the_most_frequent_non_stop_words) {
  auto tags = keywords("Rust rust RUST: the borrow checker and the borrow rules of rust", 3);
  BOOST_REQUIRE_EQUAL(tags.size(), 3u);
  BOOST_TEST(tags[0] == "rust");
  BOOST_TEST(tags[1] == "borrow");
  BOOST_TEST(tags[2] == "checker");  // ties keep the order of first appearance
  BOOST_TEST(keywords("the and of to 42 123", 5).empty());
  // Mood words make poor tags: they say how, not what.
  BOOST_TEST(keywords("great great great compilers", 2) == std::vector<std::string>{"compilers"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_summary_is_the_sentence_richest_in_keywords) {
  auto a = analyze_locally(act("It rained. Rust traits and Rust generics make Rust code reusable. "
                               "Then I slept."));
  BOOST_TEST(a.summary == "Rust traits and Rust generics make Rust code reusable.");
  std::string longer;
  for (int i = 0; i < 100; ++i) longer += "word" + std::to_string(i) + " ";
  auto cut = analyze_locally(act(longer)).summary;
  BOOST_TEST(cut.size() <= max_summary_chars);
  BOOST_TEST(cut.ends_with("\xE2\x80\xA6"));
}

BOOST_AUTO_TEST_CASE(its_output_has_exactly_the_shape_a_model_must_produce) {
  auto a = analyze_locally(act("Finished the Coursera lecture on databases, great course"));
  auto back = parse_analysis(json::serialize(to_json(a)));
  BOOST_REQUIRE(std::holds_alternative<activity_analysis>(back));
  BOOST_TEST(std::get<activity_analysis>(back).category == "learning");
  BOOST_TEST(std::get<activity_analysis>(back).sentiment == "positive");
}

BOOST_AUTO_TEST_CASE(a_profile_sums_up_categories_tags_and_mood) {
  std::vector<kinds::ai::activity_result> sources;  // newest first, as the store returns them
  for (int day = 10; day >= 1; --day) {
    const bool learning = day > 3;
    auto a = analyze_locally(learning ? act("Great lecture on compilers, loved the course")
                                      : act("A slow walk, then yoga"));
    sources.push_back(result_of(a, day));
  }
  auto p = profile_locally(sources);
  BOOST_REQUIRE(!p.interests.empty());
  BOOST_TEST(p.interests[0] == "learning");
  auto has = [](const std::vector<std::string>& v, const char* s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  BOOST_TEST(has(p.interests, "health"));
  BOOST_TEST(has(p.traits, "curious learner"));
  BOOST_TEST(has(p.traits, "upbeat"));
  BOOST_TEST(has(p.traits, "health-conscious"));
  BOOST_TEST(p.activity_summary.starts_with("10 activities from 2026-11-01 to 2026-11-10"));
  BOOST_TEST(std::holds_alternative<profile>(parse_profile(json::serialize(to_json(p)))));
  BOOST_TEST(json::serialize(to_json(profile_locally(sources))) == json::serialize(to_json(p)));
}

BOOST_AUTO_TEST_CASE(a_profile_says_mostly_only_for_a_majority_and_negators_are_no_tags) {
  std::vector<kinds::ai::activity_result> sources;
  sources.push_back(result_of(analyze_locally(act("Great lecture on compilers, loved the course")), 2));
  sources.push_back(result_of(analyze_locally(act("Terrible walk, awful rain, hated the run")), 1));
  const auto p = profile_locally(sources);
  BOOST_TEST(p.activity_summary.find("Mood mixed (50% positive, 50% negative)") != std::string::npos,
             p.activity_summary);
  BOOST_TEST(p.activity_summary.find("a mix of") != std::string::npos, p.activity_summary);
  BOOST_TEST(p.activity_summary.find("mostly") == std::string::npos, p.activity_summary);
  const auto tags = analyze_locally(act("Did not finish the marathon, not today, not again")).tags;
  BOOST_TEST((std::find(tags.begin(), tags.end(), "not") == tags.end()));
}

BOOST_AUTO_TEST_SUITE_END()
