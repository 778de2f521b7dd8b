#define BOOST_TEST_MODULE http_csrf
// The CSRF decision (http/csrf.hpp) case by case: what a browser on another origin can send is
// refused, what curl, the CLI and the dashboard send is allowed.
#include <boost/test/unit_test.hpp>
#include <set>
#include <vector>
#include <string>

#include "http/csrf.hpp"
#include "http/session.hpp"

using spool::http::decide_csrf;
using spool::http::request_origin;

namespace {
constexpr const char* json = "application/json";
constexpr const char* host = "127.0.0.1:8080";
}  // namespace

BOOST_AUTO_TEST_SUITE(csrf)

BOOST_AUTO_TEST_CASE(reads_are_always_allowed) {
  for (auto m : {"GET", "HEAD", "OPTIONS"}) {
    auto d = decide_csrf({.method = m, .origin = "http://evil.example", .sec_fetch_site = "cross-site", .host = host});
    BOOST_TEST(d.allowed, m);
  }
}

BOOST_AUTO_TEST_CASE(a_script_without_origin_needs_only_json) {
  for (auto m : {"POST", "PUT", "PATCH", "DELETE"}) {
    BOOST_TEST(decide_csrf({.method = m, .content_type = json, .host = host}).allowed, m);
    auto plain = decide_csrf({.method = m, .host = host});
    BOOST_TEST(!plain.allowed, m);
    BOOST_TEST(plain.status == 415u);
    BOOST_TEST(plain.code == "json_content_type_required");
  }
  for (auto ct : {"application/json; charset=utf-8", "Application/JSON", " application/json ;charset=UTF-8"})
    BOOST_TEST(decide_csrf({.method = "POST", .content_type = ct, .host = host}).allowed, ct);
  // What an HTML form or a preflight-free fetch can send.
  for (auto ct : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/jsonx", "text/json", "application/json-seq"})
    BOOST_TEST(!decide_csrf({.method = "POST", .content_type = ct, .host = host}).allowed, ct);
}

BOOST_AUTO_TEST_CASE(the_dashboard_on_its_own_origin_is_allowed) {
  BOOST_TEST(decide_csrf({.method = "POST", .content_type = json, .origin = "http://127.0.0.1:8080",
                          .sec_fetch_site = "same-origin", .host = host})
                 .allowed);
  BOOST_TEST(decide_csrf({.method = "POST", .content_type = json, .origin = "HTTP://LocalHost:9000",
                          .host = "localhost:9000"})
                 .allowed);
  // The default port is implied on either side.
  BOOST_TEST(decide_csrf({.method = "DELETE", .content_type = json, .origin = "http://spool.internal",
                          .host = "spool.internal:80"})
                 .allowed);
  BOOST_TEST(decide_csrf({.method = "POST", .content_type = json, .origin = "https://spool.internal:443",
                          .host = "spool.internal"})
                 .allowed);
  BOOST_TEST(decide_csrf({.method = "POST", .content_type = json, .origin = "http://[::1]:8080", .host = "[::1]:8080"})
                 .allowed);
  // A user typing the address, or a bookmark: no site to blame.
  BOOST_TEST(decide_csrf({.method = "POST", .content_type = json, .sec_fetch_site = "none", .host = host}).allowed);
}

BOOST_AUTO_TEST_CASE(another_origin_is_refused_even_with_json) {
  for (auto origin : {"http://127.0.0.1:8081", "http://evil.example", "http://127.0.0.1", "null",
                      "http://127.0.0.1:8080.evil.example", "http://127.0.0.1:8080/x",
                      "ftp://127.0.0.1:8080", "127.0.0.1:8080"}) {
    auto d = decide_csrf({.method = "POST", .content_type = json, .origin = origin, .host = host});
    BOOST_TEST(!d.allowed, origin);
    BOOST_TEST(d.status == 403u);
    BOOST_TEST(d.code == "cross_origin_request");
  }
  // No Host to compare with: an Origin cannot be shown to be ours.
  BOOST_TEST(!decide_csrf({.method = "POST", .content_type = json, .origin = "http://127.0.0.1:8080"}).allowed);
}

BOOST_AUTO_TEST_CASE(fetch_metadata_from_another_site_is_refused) {
  // A page on a sibling port of the same host is "same-site" to the browser: still another origin.
  for (auto site : {"cross-site", "same-site", "Cross-Site"}) {
    auto d = decide_csrf({.method = "POST", .content_type = json, .sec_fetch_site = site, .host = host});
    BOOST_TEST(!d.allowed, site);
    BOOST_TEST(d.status == 403u);
    BOOST_TEST(d.code == "cross_site_request");
  }
  // Refused as cross-site before the content type is looked at: the answer names the real reason.
  auto form = decide_csrf({.method = "POST", .content_type = "text/plain", .origin = "http://evil.example",
                           .sec_fetch_site = "cross-site", .host = host});
  BOOST_TEST(form.code == "cross_site_request");
}

BOOST_AUTO_TEST_SUITE_END()

// The dashboard's sessions: random ids, server-side expiry, a bounded table.
BOOST_AUTO_TEST_SUITE(sessions)

using spool::http::session_table;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(a_session_is_valid_until_it_expires_or_is_closed) {
  session_table t(60s);
  const session_table::clock::time_point t0{1000s};
  auto id = t.open(t0);
  BOOST_TEST(id.size() == 64u);
  BOOST_TEST(t.valid(id, t0));
  BOOST_TEST(t.valid(id, t0 + 59s));
  BOOST_TEST(!t.valid(id, t0 + 60s));
  BOOST_TEST(!t.valid(id + "0", t0));
  BOOST_TEST(!t.valid("", t0));
  auto other = t.open(t0);
  t.close(other);
  BOOST_TEST(!t.valid(other, t0));
  BOOST_TEST(t.valid(id, t0));
}

BOOST_AUTO_TEST_CASE(ids_are_random_and_the_table_is_bounded) {
  session_table t(60s, 3);
  const session_table::clock::time_point t0{1000s};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(t.open(t0 + std::chrono::seconds(i)));
  BOOST_TEST(std::set<std::string>(ids.begin(), ids.end()).size() == 3u);
  const auto newest = t.open(t0 + 3s);  // at the cap: the one expiring soonest goes
  BOOST_TEST(t.size() == 3u);
  BOOST_TEST(!t.valid(ids[0], t0 + 3s));
  BOOST_TEST(t.valid(ids[1], t0 + 3s));
  BOOST_TEST(t.valid(newest, t0 + 3s));
  // Expired sessions are dropped when the next one opens.
  t.open(t0 + 200s);
  BOOST_TEST(t.size() == 1u);
  std::set<std::string> many;
  for (int i = 0; i < 200; ++i) many.insert(spool::http::random_session_id());
  BOOST_TEST(many.size() == 200u);
  for (auto& id : many) BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_cookie_header_is_read_by_name) {
  using spool::http::cookie_value;
  BOOST_TEST(cookie_value("spool_session=ab12", "spool_session").value() == "ab12");
  BOOST_TEST(cookie_value("a=1; spool_session=ab12; b=2", "spool_session").value() == "ab12");
  BOOST_TEST(!cookie_value("xspool_session=ab12", "spool_session"));
  BOOST_TEST(!cookie_value("", "spool_session"));
}

BOOST_AUTO_TEST_SUITE_END()
