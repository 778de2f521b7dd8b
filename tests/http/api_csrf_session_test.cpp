// Cross-site request forgery and the dashboard's sign-in, through the API in-process: a request a
// browser on another origin can make changes nothing, token or not; the token given once yields a
// session cookie that opens the API (and not /metrics).
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

struct browser_request {
  std::string method = {}, target = {}, body = {};
  std::string content_type = "application/json";
  std::string origin = {};
  std::string sec_fetch_site = {};
  std::string cookie = {};
  std::string authorization = {};
};

// Callers name the request: GCC 12 destroys a braced temporary in a co_await expression twice.
asio::awaitable<http::response> send(http::api& api, const browser_request& b) {
  http::request req{b.method, b.target, b.authorization, b.body};
  req.content_type = b.content_type;
  req.origin = b.origin;
  req.sec_fetch_site = b.sec_fetch_site;
  req.cookie = b.cookie;
  req.host = "127.0.0.1:8080";
  co_return co_await api.handle(req);
}

asio::awaitable<std::int64_t> job_count(http::api& api, std::string auth = {}) {
  auto r = co_await call(api, "GET", "/api/v1/jobs?limit=1000", "", auth);
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  co_return count_of(body_of(r));
}

// "spool_session=ID" from a Set-Cookie value.
std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

}  // namespace

BOOST_AUTO_TEST_SUITE(api_csrf)

BOOST_AUTO_TEST_CASE(a_cross_site_request_changes_nothing_without_a_token) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    // A form on another port of the same host posting text/plain JSON-looking data.
    browser_request form_request{.method = "POST", .target = "/api/v1/jobs", .body = noop,
                                    .content_type = "text/plain", .origin = "http://127.0.0.1:9999",
                                    .sec_fetch_site = "same-site"};
    auto form = co_await send(api, form_request);
    BOOST_TEST(form.status == 403u);
    BOOST_TEST(error_code(form) == "cross_site_request");
    // fetch() from another site that managed to say application/json (it would need a preflight).
    browser_request fetched_request{.method = "POST", .target = "/api/v1/jobs", .body = noop,
                                       .origin = "http://evil.example"};
    auto fetched = co_await send(api, fetched_request);
    BOOST_TEST(fetched.status == 403u);
    BOOST_TEST(error_code(fetched) == "cross_origin_request");
    // No browser headers, but a form's content type: not JSON, refused.
    browser_request urlencoded_request{.method = "POST", .target = "/api/v1/queues/default/pause",
                                          .content_type = "application/x-www-form-urlencoded"};
    auto urlencoded = co_await send(api, urlencoded_request);
    BOOST_TEST(urlencoded.status == 415u);
    BOOST_TEST(error_code(urlencoded) == "json_content_type_required");
    browser_request bare_request{.method = "POST", .target = "/api/v1/jobs", .body = noop, .content_type = ""};
    auto bare = co_await send(api, bare_request);
    BOOST_TEST(bare.status == 415u);
    BOOST_TEST(co_await job_count(api) == 0);
    auto queues = body_of(co_await call(api, "GET", "/api/v1/queues"));
    for (auto& q : queues.at("queues").as_array()) BOOST_TEST(!q.at("paused").as_bool());
    // The same requests from the endpoint's own origin (the dashboard) or from curl go through.
    browser_request own_request{.method = "POST", .target = "/api/v1/jobs", .body = noop,
                                   .origin = "http://127.0.0.1:8080", .sec_fetch_site = "same-origin"};
    auto own = co_await send(api, own_request);
    BOOST_TEST(own.status == 201u);
    browser_request curl_request{.method = "POST", .target = "/api/v1/jobs", .body = noop};
    auto curl = co_await send(api, curl_request);
    BOOST_TEST(curl.status == 201u);
    BOOST_TEST(co_await job_count(api) == 2);
    // Reads are not state changes: another origin may GET (it cannot read the answer without CORS).
    browser_request read_request{.method = "GET", .target = "/api/v1/stats", .content_type = "",
                                    .origin = "http://evil.example", .sec_fetch_site = "cross-site"};
    auto read = co_await send(api, read_request);
    BOOST_TEST(read.status == 200u);
  });
}

BOOST_AUTO_TEST_CASE(a_cross_site_request_is_refused_even_with_the_token_or_a_session) {
  api_harness h;
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        browser_request signed_in_request{.method = "POST", .target = "/api/v1/session",
                                             .body = R"({"token":"s3cret"})"};
        auto signed_in = co_await send(api, signed_in_request);
        BOOST_REQUIRE_EQUAL(signed_in.status, 200u);
        const auto cookie = cookie_pair(header(signed_in, "Set-Cookie"));
        const std::vector<std::pair<std::string, std::string>> credentials{{cookie, ""}, {"", "Bearer s3cret"}};
        for (const auto& [cookie_h, auth] : credentials) {
          browser_request r_request{.method = "POST", .target = "/api/v1/jobs", .body = noop,
                                       .origin = "http://127.0.0.1:9999", .cookie = cookie_h,
                                       .authorization = auth};
          auto r = co_await send(api, r_request);
          BOOST_TEST(r.status == 403u);
          browser_request d_request{.method = "DELETE", .target = "/api/v1/dlq/1", .sec_fetch_site = "cross-site",
                                       .cookie = cookie_h, .authorization = auth};
          auto d = co_await send(api, d_request);
          BOOST_TEST(d.status == 403u);
        }
        // A cross-origin page cannot sign the browser in either (login CSRF).
        browser_request login_request{.method = "POST", .target = "/api/v1/session",
                                         .body = R"({"token":"s3cret"})", .origin = "http://evil.example"};
        auto login = co_await send(api, login_request);
        BOOST_TEST(login.status == 403u);
        BOOST_TEST(co_await job_count(api, "Bearer s3cret") == 0);
      },
      {.token = "s3cret"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(api_session)

BOOST_AUTO_TEST_CASE(signing_in_once_opens_the_api_and_not_metrics) {
  api_harness h;
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        // The page itself loads without the token: it holds no data.
        auto page = co_await call(api, "GET", "/");
        BOOST_TEST(page.status == 200u);
        BOOST_TEST(page.body.find("id=\"signin\"") != std::string::npos);
        BOOST_TEST((co_await call(api, "GET", "/api/v1/queues")).status == 401u);

        browser_request wrong_request{.method = "POST", .target = "/api/v1/session", .body = R"({"token":"nope"})"};
        auto wrong = co_await send(api, wrong_request);
        BOOST_TEST(wrong.status == 401u);
        BOOST_TEST(header(wrong, "Set-Cookie").empty());
        browser_request malformed_request{.method = "POST", .target = "/api/v1/session", .body = R"({"tok":1})"};
        auto malformed = co_await send(api, malformed_request);
        BOOST_TEST(malformed.status == 400u);
        BOOST_TEST(error_code(malformed) == "invalid_request");

        browser_request ok_request{.method = "POST", .target = "/api/v1/session", .body = R"({"token":"s3cret"})",
                                      .origin = "http://127.0.0.1:8080", .sec_fetch_site = "same-origin"};
        auto ok = co_await send(api, ok_request);
        BOOST_REQUIRE_EQUAL(ok.status, 200u);
        const auto set_cookie = header(ok, "Set-Cookie");
        BOOST_TEST_MESSAGE("Set-Cookie: " << set_cookie);
        BOOST_TEST(set_cookie.starts_with("spool_session="));
        for (auto attr : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=3600"})
          BOOST_TEST(set_cookie.find(attr) != std::string::npos, attr);
        const auto cookie = cookie_pair(set_cookie);
        BOOST_TEST(cookie.size() == std::string("spool_session=").size() + 64);
        const auto with_cookie = "theme=dark; " + cookie;

        browser_request listed_request{.method = "GET", .target = "/api/v1/queues", .content_type = "", .cookie = with_cookie};
        auto listed = co_await send(api, listed_request);
        BOOST_TEST(listed.status == 200u);
        browser_request created_request{.method = "POST", .target = "/api/v1/jobs", .body = noop,
                                           .origin = "http://127.0.0.1:8080", .cookie = with_cookie};
        auto created = co_await send(api, created_request);
        BOOST_TEST(created.status == 201u);
        // /metrics is for scrapers with the bearer token, not for a browser's session.
        browser_request metrics_request{.method = "GET", .target = "/metrics", .content_type = "", .cookie = cookie};
        auto metrics = co_await send(api, metrics_request);
        BOOST_TEST(metrics.status == 401u);
        BOOST_TEST((co_await call(api, "GET", "/metrics", "", "Bearer s3cret")).status == 200u);
        // A made-up session id opens nothing.
        browser_request forged_request{.method = "GET", .target = "/api/v1/queues", .content_type = "",
                                          .cookie = "spool_session=" + std::string(64, 'a')};
        auto forged = co_await send(api, forged_request);
        BOOST_TEST(forged.status == 401u);
        // Signing out ends the session on the server, whatever the browser keeps.
        browser_request out_request{.method = "DELETE", .target = "/api/v1/session", .cookie = cookie};
        auto out = co_await send(api, out_request);
        BOOST_TEST(out.status == 200u);
        BOOST_TEST(header(out, "Set-Cookie").find("Max-Age=0") != std::string::npos);
        browser_request after_request{.method = "GET", .target = "/api/v1/queues", .content_type = "", .cookie = cookie};
        auto after = co_await send(api, after_request);
        BOOST_TEST(after.status == 401u);
      },
      {.token = "s3cret", .session_ttl = std::chrono::seconds(3600)});
}

BOOST_AUTO_TEST_CASE(without_a_token_there_is_nothing_to_sign_in_to) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    browser_request r_request{.method = "POST", .target = "/api/v1/session", .body = R"({"token":"x"})"};
    auto r = co_await send(api, r_request);
    BOOST_TEST(r.status == 409u);
    BOOST_TEST(error_code(r) == "no_token_configured");
    BOOST_TEST((co_await call(api, "GET", "/api/v1/queues")).status == 200u);
  });
}

BOOST_AUTO_TEST_SUITE_END()
