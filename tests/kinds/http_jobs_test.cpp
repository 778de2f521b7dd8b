// HTTP kinds through a real runtime (on SQLite and PostgreSQL) against a scripted HTTP server on
// loopback: what each attempt POSTs and how it is signed, how answers become job states, and how
// cancellation and the request's timeout close the connection.
#define BOOST_TEST_MODULE http_jobs
#include <boost/json/parse.hpp>

#include "kinds/http/http_kinds.hpp"
#include "kinds/http/signature.hpp"
#include "tests/kinds/support/fake_openai_server.hpp"
#include "tests/support/runtime_harness.hpp"

using namespace spool;
using namespace spool::test;
using server = fake_openai_server;

namespace {

constexpr auto secret = "whsec-test";

struct http_harness : runtime_harness {
  std::string admin_base;  // the admin endpoint the kinds' progress_url names ("": off)
  http_harness() {
    kinds = {};
    settings.queues = {{"default", 10}};
  }

  // Declares kind `name` at `url`, signed, with a fast retry for the tests.
  void declare(const std::string& name, const std::string& url, double timeout_s = 10) {
    config::http_kind_settings k;
    k.kind = name;
    k.url = url;
    k.timeout_s = timeout_s;
    k.headers = {{"X-Team", "search"}};
    k.secret_env = "TEST_HTTP_SECRET";
    settings.http_kinds.push_back(k);
    settings.kinds[name].retry_base_s = 0.05;
    settings.kinds[name].retry_cap_s = 0.05;
    settings.kinds[name].retry_jitter = 0;
  }

  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(threads);
    kinds::http::register_http_kinds(
        kinds, settings, ioc.get_executor(),
        [](const char* name) -> const char* { return std::string_view(name) == "TEST_HTTP_SECRET" ? secret : nullptr; },
        [this] { return admin_base; });
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
    drive(ioc, rt, scenario(rt));
  }
};

server::reply answer(unsigned status, std::string body = "",
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  server::reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

server::reply hang() {
  server::reply r;
  r.hang = true;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_attempt_posts_the_job_signed_and_a_2xx_completes_it) {
  server app([](auto&, int) { return answer(200, R"({"vector":[0.1]})"); });
  http_harness h;
  h.declare("embed", app.url() + "/jobs/embed?v=1");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto id = co_await enqueue(rt, "embed", R"({"doc":"a b c"})", 7);
    auto job = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(job.attempt == 1);
  });
  BOOST_TEST_REQUIRE(app.request_count() == 1);
  const auto req = app.requests().front();
  BOOST_TEST(req.method == "POST");
  BOOST_TEST(req.target == "/jobs/embed?v=1");
  BOOST_TEST(req.content_type == "application/json");
  BOOST_TEST(req.headers.at("X-Team") == "search");
  BOOST_TEST(req.json.at("kind").as_string() == "embed");
  BOOST_TEST(req.json.at("attempt").as_int64() == 1);
  BOOST_TEST(req.json.at("max_attempts").as_int64() == 7);
  BOOST_TEST(req.json.at("queue").as_string() == "default");
  BOOST_TEST(req.json.at("payload").at("doc").as_string() == "a b c");
  BOOST_TEST(req.headers.at("X-Spool-Job-Id") == std::to_string(req.json.at("id").as_int64()));
  // The receiver's check: the signature of the timestamp and the exact body it got.
  const auto ts = req.headers.at("X-Spool-Timestamp");
  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  BOOST_TEST(std::abs(std::stoll(ts) - unix_now) < 300);
  BOOST_TEST(req.headers.at("X-Spool-Signature") == kinds::http::signature(secret, ts, req.body));
}

BOOST_AUTO_TEST_CASE(answers_snooze_retry_and_dead_letter_jobs_by_the_contract) {
  // Job "flaky": 503 + Retry-After (a snooze, no attempt used), then 500 (a failed attempt), then
  // 200. Job "bad": 422, straight to the dead-letter queue. Job "told": a 200 saying discard.
  // Called on the server's one thread: the counter needs no lock.
  int flaky_calls = 0;
  server app([&flaky_calls](const server::received& req, int) {
    const auto name = std::string(req.json.at("payload").at("name").as_string());
    if (name == "bad") return answer(422, "no such document");
    if (name == "told") return answer(200, R"({"outcome":"discard","error":"user deleted"})");
    switch (flaky_calls++) {
      case 0: return answer(503, "busy", {{"Retry-After", "1"}});
      case 1: return answer(500, "boom");
      default: return answer(200);
    }
  });
  http_harness h;
  h.declare("embed", app.url() + "/embed");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto flaky = co_await enqueue(rt, "embed", R"({"name":"flaky"})");
    const auto bad = co_await enqueue(rt, "embed", R"({"name":"bad"})");
    const auto told = co_await enqueue(rt, "embed", R"({"name":"told"})");
    auto f = co_await await_job(rt, flaky, in_state(jobs::state::completed));
    BOOST_TEST(f.attempt == 2);
    BOOST_TEST_REQUIRE(f.errors.size() == 1u);
    BOOST_TEST(f.errors[0].message == "HTTP 500 from " + app.url() + "/embed: boom");
    auto b = co_await await_job(rt, bad, in_state(jobs::state::dead));
    BOOST_TEST(b.attempt == 1);
    BOOST_TEST(b.note == "HTTP 422 from " + app.url() + "/embed: no such document");
    auto t = co_await await_job(rt, told, in_state(jobs::state::dead));
    BOOST_TEST(t.note == "HTTP 200 from " + app.url() + "/embed: user deleted");
  });
  BOOST_TEST(app.request_count() == 5);
  // The snooze gave its attempt back: the 503 and the 500 were both attempt 1.
  std::vector<std::int64_t> flaky_attempts;
  for (auto& r : app.requests())
    if (r.json.at("payload").at("name").as_string() == "flaky") flaky_attempts.push_back(r.json.at("attempt").as_int64());
  BOOST_TEST(flaky_attempts == (std::vector<std::int64_t>{1, 1, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_a_retryable_failure) {
  std::string url;
  {
    server gone([](auto&, int) { return answer(200); });
    url = gone.url();
  }  // nothing listens there any more
  http_harness h;
  h.declare("embed", url + "/embed");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto id = co_await enqueue(rt, "embed", "{}", 2);
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_TEST(j.attempt == 2);
    BOOST_TEST_REQUIRE(j.errors.size() == 2u);
    BOOST_TEST(j.errors[0].message.starts_with("cannot connect to " + url + "/embed"));
  });
}

BOOST_AUTO_TEST_CASE(cancelling_a_running_job_closes_its_connection) {
  server app([](auto&, int) { return hang(); });
  http_harness h;
  h.declare("embed", app.url() + "/embed");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto id = co_await enqueue(rt, "embed");
    co_await poll_until([&]() -> asio::awaitable<bool> { co_return app.hang_started_at().has_value(); },
                        [](bool held) { return held; }, [](bool) { return "the request never arrived"; }, 10s);
    BOOST_TEST((co_await rt.cancel(id) == jobs::cancel_result::requested));
    auto j = co_await await_job(rt, id, in_state(jobs::state::cancelled));
    BOOST_TEST(j.note == "cancelled by operator");
  });
  BOOST_TEST(eventually([&] { return app.hang_closed_at().has_value(); }));
  BOOST_TEST(app.connections() == 1);
}

// The request carries the attempt's token and where to report progress with it; the token
// reports for this job while the request is open, and is dead once the attempt ended.
BOOST_AUTO_TEST_CASE(a_request_carries_an_attempt_token_that_reports_progress_until_the_attempt_ends) {
  server app([](auto&, int) { return hang(); });
  http_harness h;
  h.admin_base = kinds::http::admin_base_url("0.0.0.0", 8181);
  h.declare("embed", app.url() + "/embed");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto id = co_await enqueue(rt, "embed");
    co_await poll_until([&]() -> asio::awaitable<bool> { co_return app.hang_started_at().has_value(); },
                        [](bool held) { return held; }, [](bool) { return "the request never arrived"; }, 10s);
    const auto req = app.requests().front();
    const auto token = req.headers.at("X-Spool-Attempt-Token");
    BOOST_TEST(token.size() == 48u);
    BOOST_TEST(req.json.at("progress_url").as_string() ==
               "http://127.0.0.1:8181/api/v1/jobs/" + std::to_string(id) + "/progress");
    BOOST_TEST(!rt.report_progress(token, id + 1, 0.5, "another job"));
    BOOST_TEST(rt.report_progress(token, id, 0.5, "half the document"));
    auto j = co_await await_job(rt, id, [](const jobs::job& j) { return j.progress.has_value(); });
    BOOST_TEST(j.progress->note == "half the document");
    BOOST_TEST((co_await rt.cancel(id) == jobs::cancel_result::requested));
    co_await await_job(rt, id, in_state(jobs::state::cancelled));
    BOOST_TEST(!rt.report_progress(token, id, 0.9, "too late"));
  });
}

// A job with parents gets their results in its request: the application's input from the steps
// before it.
BOOST_AUTO_TEST_CASE(a_dependant_job_posts_its_parents_results) {
  server app([](auto& req, int) {
    return answer(200, req.json.contains("parents") ? R"({"joined":true})" : R"({"vector":[0.5]})");
  });
  http_harness h;
  h.declare("embed", app.url() + "/embed");
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto parent = co_await enqueue(rt, "embed", R"({"doc":"a"})");
    jobs::new_job join;
    join.kind = "embed";
    join.depends_on = {parent};
    std::vector<jobs::new_job> batch;  // named: GCC 12 cannot take a braced list inside co_await
    batch.push_back(join);
    const auto child = (co_await rt.enqueue(std::move(batch))).front().id;
    co_await await_job(rt, child, in_state(jobs::state::completed));
  });
  BOOST_TEST_REQUIRE(app.request_count() == 2);
  const auto first = app.requests()[0], second = app.requests()[1];
  BOOST_TEST(!first.json.contains("parents"), "a job without parents gets none");
  const auto& parents = second.json.at("parents").as_array();
  BOOST_REQUIRE_EQUAL(parents.size(), 1u);
  BOOST_TEST(parents[0].at("id").as_int64() == first.json.at("id").as_int64());
  BOOST_TEST(parents[0].at("result").at("vector").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_callback_url_is_configured_or_follows_the_admin_address) {
  BOOST_TEST(kinds::http::admin_base_url("10.0.0.5", 9000) == "http://10.0.0.5:9000");
  BOOST_TEST(kinds::http::admin_base_url("0.0.0.0", 8080) == "http://127.0.0.1:8080");
  BOOST_TEST(kinds::http::admin_base_url("::", 8080) == "http://[::1]:8080");
  BOOST_TEST(kinds::http::admin_base_url("fe80::1", 8080) == "http://[fe80::1]:8080");
  config::http_kind_settings k;
  BOOST_TEST(kinds::http::callback_base(k, "http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  BOOST_TEST(kinds::http::callback_base(k, "") == "", "no admin endpoint, no callback");
  k.callback_url = "https://spool.internal/";
  BOOST_TEST(kinds::http::callback_base(k, "") == "https://spool.internal");
}

BOOST_AUTO_TEST_CASE(a_request_past_its_timeout_is_aborted_and_retried_on_a_new_connection) {
  server app([](auto&, int n) { return n == 0 ? hang() : answer(200); });
  http_harness h;
  h.declare("embed", app.url() + "/embed", 0.3);
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto id = co_await enqueue(rt, "embed");
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 2);
    BOOST_TEST_REQUIRE(j.errors.size() == 1u);
    BOOST_TEST(j.errors[0].message.starts_with("no complete answer from " + app.url() + "/embed in time"));
  });
  BOOST_TEST(eventually([&] { return app.hang_closed_at().has_value(); }));
  // The timed-out connection was closed, not pooled: the retry came on a second one.
  BOOST_TEST(app.connections() == 2);
}
