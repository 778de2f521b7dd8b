#define BOOST_TEST_MODULE http_api
// Creating jobs and every status code of the admin API (201, 400, 401, 404, 405, 409, 422),
// driven in-process against a real runtime. Operator actions are in api_operations_test.cpp.
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

const std::string noop = R"({"kind":"noop"})";

std::int64_t count_of(const json::value& list) {
  return static_cast<std::int64_t>(list.at("jobs").as_array().size());
}

asio::awaitable<std::int64_t> stored_jobs(http::api& api) {
  auto r = co_await call(api, "GET", "/api/v1/jobs?limit=1000");
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  co_return count_of(body_of(r));
}

}  // namespace

BOOST_AUTO_TEST_CASE(create_answers_201_with_the_job_and_the_job_runs) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto r = co_await call(
        api, "POST", "/api/v1/jobs",
        R"({"kind":"noop","payload":{"n":[1,2]},"priority":-5,"max_attempts":3,"unique_key":"create-1"})");
    BOOST_REQUIRE_EQUAL(r.status, 201u);
    BOOST_TEST(r.content_type == "application/json");
    auto job = body_of(r).as_object();
    BOOST_TEST(job.at("kind").as_string() == "noop");
    BOOST_TEST(job.at("queue").as_string() == "default");
    BOOST_TEST(job.at("priority").as_int64() == -5);
    BOOST_TEST(job.at("max_attempts").as_int64() == 3);
    BOOST_TEST(job.at("unique_key").as_string() == "create-1");
    BOOST_TEST(json::serialize(job.at("payload")) == R"({"n":[1,2]})");
    BOOST_TEST(job.at("duplicate").as_bool() == false);
    auto done = co_await await_state(api, job.at("id").as_int64(), "completed");
    BOOST_TEST(done.at("attempt").as_int64() == 1);
    BOOST_TEST(done.at("errors").as_array().empty());

    // run_at and delay_s both schedule the job.
    auto later =
        co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","run_at":"2999-01-01T00:00:00+01:00"})");
    BOOST_REQUIRE_EQUAL(later.status, 201u);
    BOOST_TEST(body_of(later).at("state").as_string() == "scheduled");
    BOOST_TEST(body_of(later).at("run_at").as_string() == "2998-12-31T23:00:00.000000Z");
    auto delayed = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","delay_s":3600.5})");
    BOOST_REQUIRE_EQUAL(delayed.status, 201u);
    BOOST_TEST(body_of(delayed).at("state").as_string() == "scheduled");
  });
}

BOOST_AUTO_TEST_CASE(a_batch_is_stored_whole_or_not_at_all) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto r = co_await call(
        api, "POST", "/api/v1/jobs/batch",
        R"([{"kind":"noop"},{"kind":"noop","queue":"other"},{"kind":"sleep","payload":{"ms":1}}])");
    BOOST_REQUIRE_EQUAL(r.status, 201u);
    auto jobs = body_of(r).at("jobs").as_array();
    BOOST_REQUIRE_EQUAL(jobs.size(), 3u);
    BOOST_TEST(jobs[1].at("queue").as_string() == "other");
    BOOST_TEST(jobs[0].at("id").as_int64() < jobs[1].at("id").as_int64());
    for (auto& j : jobs) co_await await_state(api, j.at("id").as_int64(), "completed");
    BOOST_TEST(co_await stored_jobs(api) == 3);

    // One bad job refuses the whole batch: nothing of it is stored.
    auto bad_value = co_await call(api, "POST", "/api/v1/jobs/batch",
                                   R"([{"kind":"noop"},{"kind":"noop","max_attempts":0}])");
    BOOST_TEST(bad_value.status == 422u);
    BOOST_TEST(body_of(bad_value).at("error").at("message").as_string().starts_with("job 1: "));
    auto bad_queue = co_await call(api, "POST", "/api/v1/jobs/batch",
                                   R"([{"kind":"noop"},{"kind":"noop","queue":"nope"}])");
    BOOST_TEST(bad_queue.status == 422u);
    BOOST_TEST(error_code(bad_queue) == "unknown_queue");
    auto bad_type = co_await call(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"noop"},{"kind":7}])");
    BOOST_TEST(bad_type.status == 400u);
    BOOST_TEST(co_await stored_jobs(api) == 3);

    std::string too_many = "[";
    for (int i = 0; i < 10001; ++i) too_many += std::string(i ? "," : "") + R"({"kind":"noop"})";
    auto over = co_await call(api, "POST", "/api/v1/jobs/batch", too_many + "]");
    BOOST_TEST(over.status == 422u);
    BOOST_TEST(error_code(over) == "invalid_job");

    for (auto body : {"{}", "[]", R"({"kind":"noop"})", "[1]", "[[]"}) {
      auto not_a_batch = co_await call(api, "POST", "/api/v1/jobs/batch", body);
      BOOST_TEST(not_a_batch.status == 400u, body);
      BOOST_TEST(error_code(not_a_batch) == "bad_request");
    }
    BOOST_TEST(co_await stored_jobs(api) == 3);
  });
}

BOOST_AUTO_TEST_CASE(malformed_or_mistyped_bodies_are_400) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const char* bodies[] = {
        "",                     // empty
        "{",                    // malformed
        R"({"kind":"noop",})",  // trailing comma
        "[]",                   // not an object
        "\"noop\"",             // not an object
        R"({"payload":{}})",    // kind missing
        R"({"kind":5})",        // wrong types, field by field
        R"({"kind":"noop","payload":"{}"})",
        R"({"kind":"noop","payload":[1]})",
        R"({"kind":"noop","queue":1})",
        R"({"kind":"noop","priority":"1"})",
        R"({"kind":"noop","priority":1.5})",
        R"({"kind":"noop","max_attempts":true})",
        R"({"kind":"noop","unique_key":7})",
        R"({"kind":"noop","run_at":1700000000})",
        R"({"kind":"noop","delay_s":"10"})",
        R"({"kind":"noop","colour":"blue"})",               // unknown field
        "{\"kind\":\"noop\",\"unique_key\":\"\xff\xfe\"}",  // invalid UTF-8
    };
    for (auto body : bodies) {
      auto r = co_await call(api, "POST", "/api/v1/jobs", body);
      BOOST_TEST(r.status == 400u, "body " << body << " answered " << r.status << " " << r.body);
      BOOST_TEST(error_code(r) == "bad_request");
    }
    // Deep nesting is refused without recursing through it.
    auto deep = co_await call(
        api, "POST", "/api/v1/jobs",
        R"({"kind":"noop","payload":{"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}}");
    BOOST_TEST(deep.status == 400u);
    BOOST_TEST(co_await stored_jobs(api) == 0);
  });
}

BOOST_AUTO_TEST_CASE(bad_values_and_unknown_queues_are_422) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto unknown = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","queue":"nope"})");
    BOOST_TEST(unknown.status == 422u);
    BOOST_TEST(error_code(unknown) == "unknown_queue");
    const char* bodies[] = {
        R"({"kind":"noop","priority":1000000000000})",
        R"({"kind":"noop","priority":-1000001})",
        R"({"kind":"noop","priority":18446744073709551615})",
        R"({"kind":"noop","max_attempts":0})",
        R"({"kind":"noop","max_attempts":-1})",
        R"({"kind":"noop","max_attempts":1001})",
        R"({"kind":"noop","run_at":"tomorrow"})",
        R"({"kind":"noop","run_at":"2026-13-01T00:00:00Z"})",
        R"({"kind":"noop","run_at":"2026-01-01T00:00:00"})",
        R"({"kind":"noop","run_at":"2026-01-01T00:00:00Z","delay_s":1})",
        R"({"kind":"noop","delay_s":-1})",
        R"({"kind":"noop","delay_s":1e300})",
        R"({"kind":""})",
        R"({"kind":"no spaces"})",
        R"({"kind":"noop","queue":"bad/queue"})",
        R"({"kind":"noop","unique_key":""})",
    };
    for (auto body : bodies) {
      auto r = co_await call(api, "POST", "/api/v1/jobs", body);
      BOOST_TEST(r.status == 422u, "body " << body << " answered " << r.status << " " << r.body);
      BOOST_TEST(error_code(r) == "invalid_job");
    }
    // A payload over 1 MiB is a bad value (the server's body limit usually answers first).
    auto big = co_await call(api, "POST", "/api/v1/jobs",
                             R"({"kind":"noop","payload":{"s":")" + std::string(1 << 20, 'x') + "\"}}");
    BOOST_TEST(big.status == 422u);
    // An integer too big for any integer type is still refused as a client error.
    auto huge = co_await call(api, "POST", "/api/v1/jobs",
                              R"({"kind":"noop","priority":1)" + std::string(400, '0') + "}");
    BOOST_TEST((huge.status == 400u || huge.status == 422u), "answered " << huge.status << " " << huge.body);
    BOOST_TEST(co_await stored_jobs(api) == 0);
  });
}

// A calendar date that does not exist is not a time: it must not silently become another day.
BOOST_AUTO_TEST_CASE(a_run_at_on_a_day_that_does_not_exist_is_422) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    for (auto day : {"2027-02-30T00:00:00Z", "2027-04-31T12:00:00Z", "2027-02-29T00:00:00Z"}) {
      auto r = co_await call(api, "POST", "/api/v1/jobs",
                             std::string(R"({"kind":"noop","run_at":")") + day + "\"}");
      BOOST_TEST(r.status == 422u, day << " answered " << r.status << " " << r.body);
    }
  });
}

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

BOOST_AUTO_TEST_CASE(conflicts_are_409) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto first = co_await create(api, R"({"kind":"noop","delay_s":3600,"unique_key":"only-once"})");
    auto again = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","unique_key":"only-once"})");
    BOOST_TEST(again.status == 409u);
    BOOST_TEST(error_code(again) == "unique_key_conflict");
    BOOST_TEST(body_of(again).at("error").at("job_id").as_int64() == first);
    // In a batch a held key is not an error: the answer names the holder.
    auto batch =
        co_await call(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"noop","unique_key":"only-once"}])");
    BOOST_REQUIRE_EQUAL(batch.status, 201u);
    BOOST_TEST(body_of(batch).at("jobs").at(0).at("id").as_int64() == first);
    BOOST_TEST(body_of(batch).at("jobs").at(0).at("duplicate").as_bool());
    BOOST_TEST(co_await stored_jobs(api) == 1);

    auto done = co_await create(api, noop);
    co_await await_state(api, done, "completed");
    auto cancel = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(done) + "/cancel");
    BOOST_TEST(cancel.status == 409u);
    BOOST_TEST(error_code(cancel) == "already_finished");
    auto retry = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(done) + "/retry");
    BOOST_TEST(retry.status == 409u);
    BOOST_TEST(error_code(retry) == "not_waiting");
  });
}

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
        // By default a token protects /metrics and the dashboard too.
        BOOST_TEST((co_await call(api, "GET", "/metrics")).status == 401u);
        BOOST_TEST((co_await call(api, "GET", "/")).status == 401u);
        BOOST_TEST((co_await call(api, "GET", "/metrics", "", "Bearer s3cret")).status == 200u);
        BOOST_TEST((co_await call(api, "GET", "/", "", "Bearer s3cret")).status == 200u);
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
