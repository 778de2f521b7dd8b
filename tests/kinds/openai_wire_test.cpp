// Reading a chat completion out of a 200 answer (kinds/ai/openai_wire.hpp). The request body is
// checked with the prompt it carries, in prompt_test.cpp.
#include <boost/test/unit_test.hpp>

#include "kinds/ai/openai_wire.hpp"
#include "tests/kinds/support/reason_of.hpp"

using namespace spool::kinds::ai;
using spool::test::reason_of;

BOOST_AUTO_TEST_SUITE(completion_parsing)

BOOST_AUTO_TEST_CASE(the_completion_envelope_yields_content_and_usage) {
  auto got = parse_completion(R"({"choices":[{"index":0,"message":{"role":"assistant",
      "content":"{\"a\":1}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5}})");
  BOOST_REQUIRE(std::holds_alternative<chat_reply>(got));
  BOOST_TEST(std::get<chat_reply>(got).content == R"({"a":1})");
  BOOST_TEST(*std::get<chat_reply>(got).prompt_tokens == 12);
  BOOST_TEST(*std::get<chat_reply>(got).completion_tokens == 5);
  auto bare = parse_completion(R"({"choices":[{"message":{"content":"x"}}]})");
  BOOST_REQUIRE(std::holds_alternative<chat_reply>(bare));
  BOOST_TEST(!std::get<chat_reply>(bare).prompt_tokens);
}

BOOST_AUTO_TEST_CASE(a_body_that_is_no_completion_says_why) {
  BOOST_TEST(reason_of(parse_completion("<html>")).starts_with("the answer is not JSON"));
  BOOST_TEST(reason_of(parse_completion(R"({"choices":[]})")) == "the answer has no choices");
  BOOST_TEST(reason_of(parse_completion(R"({"error":{"message":"x"}})")) == "the answer has no choices");
  BOOST_TEST(reason_of(parse_completion(R"({"choices":[{"message":{"content":null}}]})")) ==
             "the answer's first choice has no message content");
}

BOOST_AUTO_TEST_SUITE_END()
