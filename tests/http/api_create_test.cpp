// Creating jobs through the admin API, in-process against a real runtime: 201 and the job runs,
// batches whole or not at all, and every way a body is refused (400, 422, 409).
#include <mutex>

#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

asio::awaitable<std::int64_t> stored_jobs(http::api& api) {
  auto r = co_await call(api, "GET", "/api/v1/jobs?limit=1000");
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  co_return count_of(body_of(r));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_create)

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

BOOST_AUTO_TEST_CASE(a_held_key_answers_the_holder_or_409_on_request) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto first = co_await create(api, R"({"kind":"noop","delay_s":3600,"unique_key":"only-once"})");
    auto dup = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"noop","unique_key":"only-once"})");
    BOOST_TEST(dup.status == 200u);
    BOOST_TEST(body_of(dup).at("id").as_int64() == first);
    BOOST_TEST(body_of(dup).at("duplicate").as_bool());
    auto again = co_await call(api, "POST", "/api/v1/jobs",
                               R"({"kind":"noop","unique_key":"only-once","on_conflict":"error"})");
    BOOST_TEST(again.status == 409u);
    BOOST_TEST(error_code(again) == "unique_key_conflict");
    BOOST_TEST(body_of(again).at("error").at("job_id").as_int64() == first);
    // In a batch a held key is not an error: the answer names the holder.
    auto batch =
        co_await call(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"noop","unique_key":"only-once"}])");
    BOOST_REQUIRE_EQUAL(batch.status, 200u);  // nothing created
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

// Dependencies through the API: depends_on ids, a batch of named steps that need each other
// (stored in one transaction in an order that works, answered in the request's), refusals.
BOOST_AUTO_TEST_CASE(jobs_wait_for_their_parents_and_bad_dependencies_store_nothing) {
  api_harness h;
  std::atomic<bool> release{false};
  h.kinds.add("held", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    while (!release) co_await sleep_for(5ms);
    co_return jobs::outcome::success(R"({"part":1})");
  });
  std::mutex m;
  std::vector<std::vector<jobs::parent_result>> seen;  // what each "join" step read of its parents
  h.kinds.add("join", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    auto parents = co_await ctx.parent_results();
    std::lock_guard lock(m);
    seen.push_back(std::move(parents));
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const auto parent = co_await create(api, R"({"kind":"held"})");
    const auto child = co_await create(api, R"({"kind":"join","depends_on":[)" + std::to_string(parent) + "]}");
    auto pending = co_await get_job(api, child);
    BOOST_TEST(state_of(pending) == "pending");
    BOOST_TEST(pending.at("depends_on").as_array().size() == 1u);
    BOOST_TEST(pending.at("run_at").is_null());

    // A batch of steps, listed with the final one first: "a" and "b" fan in to "final".
    auto batch = co_await call(api, "POST", "/api/v1/jobs/batch",
                               R"([{"kind":"join","name":"final","needs":["a","b"]},)"
                               R"({"kind":"held","name":"a"},{"kind":"held","name":"b"}])");
    BOOST_TEST(batch.status == 201u, batch.body);
    const auto steps = body_of(batch).at("jobs").as_array();
    BOOST_REQUIRE_EQUAL(steps.size(), 3u);
    BOOST_TEST(steps[0].at("state").as_string() == "pending", "answered in the request's order");
    const auto final_id = steps[0].at("id").as_int64();
    auto final_job = co_await get_job(api, final_id);
    BOOST_TEST((final_job.at("depends_on") ==
                json::array{steps[1].at("id").as_int64(), steps[2].at("id").as_int64()}));

    // Refused, nothing stored: an unknown parent, a cycle, an unknown step name, a delay.
    const auto count_before = count_of(body_of(co_await call(api, "GET", "/api/v1/jobs?limit=1000")));
    auto unknown = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"join","depends_on":[987654]})");
    BOOST_TEST(unknown.status == 422u);
    BOOST_TEST(error_code(unknown) == "invalid_dependency");
    BOOST_TEST(unknown.body.find("987654") != std::string::npos, unknown.body);
    auto cycle = co_await call(api, "POST", "/api/v1/jobs/batch",
                               R"([{"kind":"join","name":"x","needs":["y"]},{"kind":"join","name":"y","needs":["x"]}])");
    BOOST_TEST(cycle.status == 422u);
    BOOST_TEST(error_code(cycle) == "invalid_dependency");
    BOOST_TEST(cycle.body.find("cycle") != std::string::npos, cycle.body);
    auto nameless = co_await call(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"join","needs":["nobody"]}])");
    BOOST_TEST(nameless.status == 422u);
    auto delayed = co_await call(api, "POST", "/api/v1/jobs",
                                 R"({"kind":"join","delay_s":5,"depends_on":[)" + std::to_string(parent) + "]}");
    BOOST_TEST(delayed.status == 422u);
    auto single_needs = co_await call(api, "POST", "/api/v1/jobs", R"({"kind":"join","needs":["a"]})");
    BOOST_TEST(single_needs.status == 400u);
    BOOST_TEST(count_of(body_of(co_await call(api, "GET", "/api/v1/jobs?limit=1000"))) == count_before);

    // The parents complete: the dependants run and read their parents' results.
    release = true;
    co_await await_state(api, child, "completed");
    co_await await_state(api, final_id, "completed");
  });
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  for (auto& parents : seen) {
    BOOST_TEST(!parents.empty());
    for (auto& p : parents) BOOST_TEST(boost::json::parse(p.result.value_or("null")) == boost::json::parse(R"({"part":1})"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
