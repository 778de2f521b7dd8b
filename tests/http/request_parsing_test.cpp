#define BOOST_TEST_MODULE http_request_parsing
// Request targets and job bodies as the API parses them, without a runtime.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "http/api.hpp"
#include "http/job_request.hpp"
#include "http/query.hpp"
#include "jobs/json.hpp"

using namespace spool;
using namespace spool::http;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const jobs::time_point t0 = *jobs::parse_rfc3339("2026-11-28T12:00:00Z");

// parse_body then parse_job, as POST /api/v1/jobs does.
std::variant<jobs::new_job, bad_input> parse(std::string_view body) {
  auto v = parse_body(body);
  if (auto* bad = std::get_if<bad_input>(&v)) return *bad;
  return parse_job(std::get<json::value>(v), t0);
}

unsigned status_of(std::string_view body) {
  auto r = parse(body);
  if (auto* bad = std::get_if<bad_input>(&r)) {
    BOOST_TEST_MESSAGE(body.substr(0, 80) << " -> " << bad->status << " " << bad->message);
    return bad->status;
  }
  return 201;
}

}  // namespace

BOOST_AUTO_TEST_CASE(targets_split_into_decoded_segments) {
  auto t = parse_target("/api/v1/jobs/7");
  BOOST_REQUIRE(t);
  BOOST_TEST(t->segments == (std::vector<std::string>{"api", "v1", "jobs", "7"}),
             boost::test_tools::per_element());
  BOOST_TEST(t->query.empty());

  BOOST_TEST(parse_target("/")->segments.empty());
  BOOST_TEST(parse_target("//api//v1/")->segments == (std::vector<std::string>{"api", "v1"}),
             boost::test_tools::per_element());
  BOOST_TEST(parse_target("/a%20b/c%2Fd")->segments == (std::vector<std::string>{"a b", "c/d"}),
             boost::test_tools::per_element());
  for (auto bad : {"", "api/v1", "*", "http://host/api", "/a%", "/a%2", "/a%zz/b"})
    BOOST_TEST(!parse_target(bad), "'" << bad << "' was accepted");
}

BOOST_AUTO_TEST_CASE(query_parameters_are_decoded) {
  auto t = parse_target("/api/v1/jobs?state=dead&kind=send%2Bmail&queue=a+b&limit=&flag&&cursor=12");
  BOOST_REQUIRE(t);
  BOOST_TEST(t->segments.size() == 3u);
  BOOST_TEST(t->query.size() == 6u);
  BOOST_TEST(t->query.at("state") == "dead");
  BOOST_TEST(t->query.at("kind") == "send+mail");
  BOOST_TEST(t->query.at("queue") == "a b");
  BOOST_TEST(t->query.at("limit") == "");
  BOOST_TEST(t->query.at("flag") == "");
  BOOST_TEST(t->query.at("cursor") == "12");
  BOOST_TEST(parse_target("/x?a=1&a=2")->query.at("a") == "2");  // the last one wins
  BOOST_TEST(parse_target("/x?")->query.empty());
  BOOST_TEST(!parse_target("/x?kind=%zz"));
  BOOST_TEST(!parse_target("/x?k%=1"));
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
  BOOST_TEST(*percent_decode("") == "");
  BOOST_TEST(*percent_decode("plain") == "plain");
  BOOST_TEST(*percent_decode("a+b") == "a b");
  BOOST_TEST(*percent_decode("%41%62%2b") == "Ab+");
  BOOST_TEST(*percent_decode("%e2%82%AC") == "\xe2\x82\xac");
  BOOST_TEST(*percent_decode("%00") == std::string(1, '\0'));
  BOOST_TEST(*percent_decode("100%25") == "100%");
  for (auto bad : {"%", "%4", "a%", "%g0", "%0g", "%%41"})
    BOOST_TEST(!percent_decode(bad), "'" << bad << "'");
}

BOOST_AUTO_TEST_CASE(a_full_job_body_is_parsed) {
  auto r = parse(R"({"kind":"email","payload":{"to":"a@b"},"queue":"mail","priority":-7,
                     "max_attempts":1000,"unique_key":"k","delay_s":1.5})");
  BOOST_REQUIRE(std::holds_alternative<jobs::new_job>(r));
  const auto& j = std::get<jobs::new_job>(r);
  BOOST_TEST(j.kind == "email");
  BOOST_TEST(j.queue == "mail");
  BOOST_TEST(j.payload == R"({"to":"a@b"})");
  BOOST_TEST(j.priority == -7);
  BOOST_TEST(j.max_attempts == 1000);
  BOOST_TEST(*j.unique_key == "k");
  BOOST_TEST((*j.run_at == t0 + 1500ms));

  auto minimal = std::get<jobs::new_job>(parse(R"({"kind":"noop"})"));
  BOOST_TEST(minimal.queue == "default");
  BOOST_TEST(minimal.payload == "{}");
  BOOST_TEST(minimal.max_attempts == 0);
  BOOST_TEST(!minimal.run_at);
  auto at = std::get<jobs::new_job>(parse(R"({"kind":"noop","run_at":"2026-11-28T13:30:00.25+01:30"})"));
  BOOST_TEST((*at.run_at == t0 + 250ms));
  BOOST_TEST(status_of(R"({"kind":"noop","priority":1000000,"max_attempts":1})") == 201u);
  BOOST_TEST(status_of(R"({"kind":"noop","priority":-1000000,"delay_s":0})") == 201u);
}

BOOST_AUTO_TEST_CASE(huge_numbers_are_refused_not_wrapped) {
  for (auto body :
       {R"({"kind":"noop","priority":2147483648})", R"({"kind":"noop","priority":9223372036854775807})",
        R"({"kind":"noop","priority":-9223372036854775808})",
        R"({"kind":"noop","priority":18446744073709551615})", R"({"kind":"noop","max_attempts":4294967297})",
        R"({"kind":"noop","delay_s":1e308})", R"({"kind":"noop","delay_s":315360001})"})
    BOOST_TEST(status_of(body) == 422u, body);
  // Beyond 64 bits JSON numbers become doubles: not an integer any more, and never a crash.
  BOOST_TEST(status_of(R"({"kind":"noop","priority":1e400})") >= 400u);
  BOOST_TEST(status_of(R"({"kind":"noop","max_attempts":99999999999999999999999})") >= 400u);
  BOOST_TEST(status_of(R"({"kind":"noop","delay_s":-0.0})") == 201u);
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused) {
  auto nested = [](int depth) {
    return R"({"kind":"noop","payload":{"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
  };
  BOOST_TEST(status_of(nested(20)) == 201u);
  BOOST_TEST(status_of(nested(40)) == 400u);
  BOOST_TEST(status_of(nested(1000000)) == 400u);
  BOOST_TEST(status_of(std::string(1000000, '{')) == 400u);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused) {
  for (auto body :
       {"{\"kind\":\"noop\",\"unique_key\":\"\xc3\"}", "{\"kind\":\"noop\",\"payload\":{\"\xff\":1}}",
        "{\"kind\":\"noop\",\"unique_key\":\"\xed\xa0\x80\"}",  // a UTF-16 surrogate
        "{\"kind\":\"noop\",\"unique_key\":\"\xc0\xaf\"}"})     // an overlong '/'
    BOOST_TEST(status_of(body) == 400u);
  BOOST_TEST(status_of("{\"kind\":\"noop\",\"unique_key\":\"caf\xc3\xa9 \\u00e9\"}") == 201u);
}

BOOST_AUTO_TEST_CASE(types_and_names_are_checked) {
  BOOST_TEST(status_of("not json") == 400u);
  BOOST_TEST(status_of("null") == 400u);
  BOOST_TEST(status_of(R"({"kind":null})") == 400u);
  BOOST_TEST(status_of(R"({"kind":"noop","payload":null})") == 400u);
  BOOST_TEST(status_of(R"({"kind":"noop","priority":null})") == 400u);
  BOOST_TEST(status_of(R"({"kind":"noop","extra":1})") == 400u);
  BOOST_TEST(status_of(R"({"kind":"x y"})") == 422u);
  BOOST_TEST(status_of(R"({"kind":")" + std::string(65, 'k') + "\"}") == 422u);
  BOOST_TEST(status_of(R"({"kind":"noop","unique_key":")" + std::string(513, 'u') + "\"}") == 422u);
  BOOST_TEST(status_of(R"({"kind":"noop","run_at":"2026-11-28T12:00:00Z","delay_s":0})") == 422u);
}

BOOST_AUTO_TEST_CASE(token_comparison) {
  BOOST_TEST(constant_time_equal("s3cret", "s3cret"));
  BOOST_TEST(!constant_time_equal("s3cret", "s3creT"));
  BOOST_TEST(!constant_time_equal("s3cret", "s3cre"));
  BOOST_TEST(!constant_time_equal("s3cre", "s3cret"));
  BOOST_TEST(!constant_time_equal("", "x"));
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(!constant_time_equal(std::string("a\0b", 3), "a"));
}
