#include <boost/test/unit_test.hpp>

#include "kinds/ai/error_map.hpp"
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
