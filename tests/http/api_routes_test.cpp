// Routing in the admin API, in-process: unknown routes and ids are 404 (quoted as valid JSON), a
// wrong method is 405 with the methods the route allows.
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

BOOST_AUTO_TEST_SUITE(api_routes)

BOOST_AUTO_TEST_CASE(unknown_routes_and_ids_are_404) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const std::pair<const char*, const char*> requests[] = {
        {"GET", "/nope"},
        {"GET", "/api/v2/jobs"},
        {"GET", "/api/v1/jobs/999999"},
        {"GET", "/api/v1/jobs/abc"},
        {"GET", "/api/v1/jobs/1/errors"},
        {"POST", "/api/v1/jobs/999999/cancel"},
        {"POST", "/api/v1/jobs/999999/retry"},
        {"POST", "/api/v1/dlq/999999/requeue"},
        {"DELETE", "/api/v1/dlq/999999"},
    };
    for (auto [method, target] : requests) {
      auto r = co_await call(api, method, target);
      BOOST_TEST(r.status == 404u, method << " " << target << " answered " << r.status);
      BOOST_TEST(error_code(r) == "not_found");
    }
    // A target that is not UTF-8 is quoted in the message, still as valid JSON (body_of parses).
    auto odd = co_await call(api, "GET", "/api/v1/jobs/a\xff\xc3(");
    BOOST_TEST(odd.status == 404u);
    BOOST_TEST(body_of(odd).at("error").at("message").as_string() == "no job 'a\uFFFD\uFFFD('");
    // A job that exists but is not dead is not in the DLQ either.
    auto id = co_await create(api, R"({"kind":"noop","delay_s":3600})");
    auto requeue = co_await call(api, "POST", "/api/v1/dlq/" + std::to_string(id) + "/requeue");
    BOOST_TEST(requeue.status == 404u);
    auto purge = co_await call(api, "DELETE", "/api/v1/dlq/" + std::to_string(id));
    BOOST_TEST(purge.status == 404u);
    BOOST_TEST(state_of(co_await get_job(api, id)) == "scheduled");
  });
}

BOOST_AUTO_TEST_CASE(a_wrong_method_is_405_with_allow) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const std::tuple<const char*, const char*, const char*> requests[] = {
        {"DELETE", "/api/v1/jobs", "GET, POST"},
        {"PUT", "/api/v1/jobs/1", "GET"},
        {"GET", "/api/v1/jobs/1/cancel", "POST"},
        {"POST", "/healthz", "GET"},
        {"POST", "/metrics", "GET"},
        {"DELETE", "/", "GET"},
        {"GET", "/api/v1/queues/default/pause", "POST"},
        {"POST", "/api/v1/stats", "GET"},
        {"PUT", "/api/v1/dlq/7", "DELETE"},
    };
    for (auto [method, target, allow] : requests) {
      auto r = co_await call(api, method, target);
      BOOST_TEST(r.status == 405u, method << " " << target << " answered " << r.status);
      BOOST_TEST(error_code(r) == "method_not_allowed");
      BOOST_TEST(header(r, "Allow") == allow, method << " " << target);
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()
