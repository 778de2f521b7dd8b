#include <boost/test/unit_test.hpp>

#include "kinds/ai/error_map.hpp"
#include "kinds/ai/http_endpoint.hpp"
#include "tests/support/printers.hpp"

using namespace spool::jobs;
using namespace spool::kinds::ai;
using namespace std::chrono_literals;
using type = outcome::type;

namespace {

inference_failure http(unsigned status, std::string body = "",
                       std::optional<std::chrono::seconds> retry_after = std::nullopt) {
  return {classify_status(status), "HTTP " + std::to_string(status) + " from http://x", status,
          std::move(body), retry_after};
}

http_endpoint endpoint(std::string_view url) {
  auto ep = parse_endpoint(url);
  if (auto* why = std::get_if<std::string>(&ep)) BOOST_FAIL(*why);
  return std::get<http_endpoint>(ep);
}

std::string endpoint_error(std::string_view url) {
  auto ep = parse_endpoint(url);
  auto* why = std::get_if<std::string>(&ep);
  return why ? *why : "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(error_mapping)

BOOST_AUTO_TEST_CASE(statuses_fall_into_classes) {
  for (unsigned s : {400u, 401u, 403u, 404u, 422u, 301u})
    BOOST_TEST((classify_status(s) == failure_class::rejected), "status " << s);
  BOOST_TEST((classify_status(429) == failure_class::rate_limited));
  BOOST_TEST((classify_status(408) == failure_class::timeout));
  for (unsigned s : {500u, 502u, 503u, 504u})
    BOOST_TEST((classify_status(s) == failure_class::server_error), "status " << s);
}

BOOST_AUTO_TEST_CASE(client_errors_are_permanent_with_the_body_in_the_message) {
  for (unsigned s : {400u, 401u, 404u}) {
    auto o = to_outcome(http(s, R"({"error":{"message":"model 'x' not found"}})"));
    BOOST_TEST(o.kind == type::failed_permanently);
    BOOST_TEST(o.message.find("HTTP " + std::to_string(s)) != std::string::npos);
    BOOST_TEST(o.message.find("model 'x' not found") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(rate_limits_and_server_errors_retry_or_snooze_as_the_server_asks) {
  auto limited = to_outcome(http(429, "slow down", 7s));
  BOOST_TEST(limited.kind == type::snoozed);
  BOOST_TEST(limited.snooze_for.count() == duration(7s).count());
  BOOST_TEST(to_outcome(http(429, "slow down")).kind == type::failed);
  BOOST_TEST(to_outcome(http(500, "boom")).kind == type::failed);
  BOOST_TEST(to_outcome(http(500, "boom")).message.find("boom") != std::string::npos);
  BOOST_TEST(to_outcome(http(503, "", 30s)).kind == type::snoozed);
  // Retry-After: 0 would spin; an absurd one is capped.
  BOOST_TEST(to_outcome(http(429, "", 0s)).snooze_for.count() == duration(1s).count());
  BOOST_TEST(to_outcome(http(429, "", 86400s)).snooze_for.count() == duration(max_retry_after).count());
}

BOOST_AUTO_TEST_CASE(transport_and_output_failures_are_retryable) {
  for (auto c : {failure_class::connect, failure_class::timeout, failure_class::network,
                 failure_class::bad_response, failure_class::bad_output}) {
    auto o = to_outcome({c, "what happened", 0, {}, std::nullopt});
    BOOST_TEST(o.kind == type::failed, to_string(c));
    BOOST_TEST(o.message == "what happened");
  }
}

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_an_http_date) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  BOOST_TEST(parse_retry_after("120", now)->count() == 120);
  BOOST_TEST(parse_retry_after(" 3 ", now)->count() == 3);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now)->count() == 30);
  BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now)->count() == 0);  // past: now
  // A date after 2262, where system_clock's nanoseconds end.
  BOOST_TEST(parse_retry_after("Thu, 06 Nov 2994 08:49:37 GMT", now)->count() == 31556995200);
  BOOST_TEST(!parse_retry_after("soon", now));
  BOOST_TEST(!parse_retry_after("-5", now));
  BOOST_TEST(!parse_retry_after("", now));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(endpoint_parsing)

BOOST_AUTO_TEST_CASE(a_root_url_and_an_api_base_reach_the_same_resource) {
  auto root = endpoint("http://127.0.0.1:8080");
  BOOST_TEST(!root.tls);
  BOOST_TEST(root.host == "127.0.0.1");
  BOOST_TEST(root.port == "8080");
  BOOST_TEST(root.target == "/v1/chat/completions");
  BOOST_TEST(root.host_header == "127.0.0.1:8080");
  BOOST_TEST(endpoint("http://localhost:11434/v1").target == "/v1/chat/completions");
  BOOST_TEST(endpoint("http://localhost:11434/v1/").target == "/v1/chat/completions");
  BOOST_TEST(endpoint("https://example.com/openai/v1").target == "/openai/v1/chat/completions");
  BOOST_TEST(endpoint("https://example.com/proxy").target == "/proxy/v1/chat/completions");
}

BOOST_AUTO_TEST_CASE(default_ports_and_ipv6) {
  BOOST_TEST(endpoint("http://example.com").port == "80");
  auto tls = endpoint("https://example.com");
  BOOST_TEST(tls.tls);
  BOOST_TEST(tls.port == "443");
  auto v6 = endpoint("http://[::1]:9000/");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == "9000");
  BOOST_TEST(v6.host_header == "[::1]:9000");
}

BOOST_AUTO_TEST_CASE(unusable_urls_say_why) {
  BOOST_TEST(endpoint_error("ftp://x").find("not an http:// or https:// URL") != std::string::npos);
  BOOST_TEST(endpoint_error("http://user:pw@x").find("user info") != std::string::npos);
  BOOST_TEST(endpoint_error("http://x/v1?key=1").find("query") != std::string::npos);
  BOOST_TEST(endpoint_error("http://x:99999").find("bad port") != std::string::npos);
  BOOST_TEST(endpoint_error("http://:80").find("names no host") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
