// The admin API's bearer token, in-process: what it guards (/api, by default /metrics and the
// dashboard), what it never guards (the health checks), and how it is compared.
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

BOOST_AUTO_TEST_SUITE(api_auth)

BOOST_AUTO_TEST_CASE(a_token_guards_the_api_but_not_the_health_checks) {
  api_harness h;
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        for (auto auth : {"", "Bearer wrong", "Bearer s3cre", "Bearer s3cretX", "s3cret", "Basic czNjcmV0",
                          "Bearer  s3cret"}) {
          auto r = co_await call(api, "GET", "/api/v1/jobs", "", auth);
          BOOST_TEST(r.status == 401u, "'" << auth << "' answered " << r.status);
          BOOST_TEST(error_code(r) == "unauthorized");
          BOOST_TEST(header(r, "WWW-Authenticate") == "Bearer");
        }
        auto post = co_await call(api, "POST", "/api/v1/jobs", noop);
        BOOST_TEST(post.status == 401u);
        auto unknown = co_await call(api, "GET", "/api/v1/nothing-here");
        BOOST_TEST(unknown.status == 401u);  // no route discovery without the token
        auto ok = co_await call(api, "GET", "/api/v1/jobs", "", "Bearer s3cret");
        BOOST_TEST(ok.status == 200u);
        auto created = co_await call(api, "POST", "/api/v1/jobs", noop, "Bearer s3cret");
        BOOST_TEST(created.status == 201u);
        BOOST_TEST((co_await call(api, "GET", "/healthz")).status == 200u);
        BOOST_TEST((co_await call(api, "GET", "/readyz")).status == 200u);
        // By default a token protects /metrics too. The dashboard's page holds no data and loads
        // without it (it signs in for its API calls: api_csrf_session_test.cpp).
        BOOST_TEST((co_await call(api, "GET", "/metrics")).status == 401u);
        BOOST_TEST((co_await call(api, "GET", "/")).status == 200u);
        BOOST_TEST((co_await call(api, "GET", "/metrics", "", "Bearer s3cret")).status == 200u);
        BOOST_TEST((co_await call(api, "GET", "/", "", "Bearer s3cret")).status == 200u);
        // An attempt token (X-Spool-Attempt-Token, what an HTTP kind's application holds) reaches
        // the progress route without the admin token, and that route only; the route checks it.
        auto with_attempt_token = [&](std::string method, std::string target,
                                      std::string token) -> asio::awaitable<http::response> {
          http::request req{std::move(method), std::move(target), "", R"({"fraction":0.5})"};
          req.content_type = "application/json";
          req.host = "127.0.0.1:8080";
          req.attempt_token = std::move(token);
          co_return co_await api.handle(req);
        };
        BOOST_TEST((co_await with_attempt_token("POST", "/api/v1/jobs/1/progress", "")).status == 401u);
        auto forged = co_await with_attempt_token("POST", "/api/v1/jobs/1/progress", "forged");
        BOOST_TEST(forged.status == 403u, forged.body);
        BOOST_TEST((co_await with_attempt_token("POST", "/api/v1/jobs/1/cancel", "forged")).status == 401u);
        BOOST_TEST((co_await with_attempt_token("GET", "/api/v1/jobs/1", "forged")).status == 401u);
      },
      {.token = "s3cret"});
}

// RFC 9110 section 11.1: the authentication scheme is a case-insensitive token.
BOOST_AUTO_TEST_CASE(the_bearer_scheme_is_case_insensitive) {
  api_harness h;
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        for (auto auth : {"bearer s3cret", "BEARER s3cret"}) {
          auto r = co_await call(api, "GET", "/api/v1/stats", "", auth);
          BOOST_TEST(r.status == 200u, "'" << auth << "' answered " << r.status);
        }
      },
      {.token = "s3cret"});
}

BOOST_AUTO_TEST_CASE(metrics_and_dashboard_open_when_the_switch_says_so) {
  api_harness h;
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        auto metrics = co_await call(api, "GET", "/metrics");
        BOOST_TEST(metrics.status == 200u);
        BOOST_TEST(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
        auto page = co_await call(api, "GET", "/");
        BOOST_TEST(page.status == 200u);
        BOOST_TEST(page.content_type == "text/html; charset=utf-8");
        BOOST_TEST(page.body.find("<title>Spool</title>") != std::string::npos);
        BOOST_TEST(page.body.find("http://") == std::string::npos);  // no CDN: works offline
        BOOST_TEST(page.body.find("https://") == std::string::npos);
        BOOST_TEST((co_await call(api, "GET", "/api/v1/stats")).status == 401u);
      },
      {.token = "s3cret", .protect_metrics = false});
}

BOOST_AUTO_TEST_SUITE_END()
