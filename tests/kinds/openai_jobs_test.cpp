// The AI kinds with the openai backend against a fake OpenAI-compatible server on loopback, in a
// real runtime: how each kind of answer ends the job.
#define BOOST_TEST_MODULE openai_jobs
#include <boost/json/parse.hpp>

#include "tests/kinds/ai_harness.hpp"
#include "tests/kinds/support/fake_openai_server.hpp"

using namespace spool;
using namespace spool::test;
namespace json = boost::json;
using reply = fake_openai_server::reply;

namespace {

reply answer(const std::string& content) {
  return {200, fake_openai_server::completion(content), {}, {}, false, false};
}

// A model that does its job: an analysis for analysis prompts, a profile for profile prompts.
reply good_model(const fake_openai_server::received& req) {
  return answer(req.asks_for_profile() ? fake_openai_server::profile_json()
                                       : fake_openai_server::analysis_json());
}

reply hang() {
  reply r;
  r.hang = true;
  return r;
}

double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

BOOST_AUTO_TEST_CASE(an_activity_is_analysed_stored_and_followed_by_its_profile) {
  fake_openai_server server([](auto& req, int) { return good_model(req); });
  ai_harness h;
  h.use_openai(server.url());
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(
        rt, activity_payload("u-1", "a-1", "Studied \"Rust\" ownership for two hours"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 1);

    auto result = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_result("a-1"); });
    BOOST_REQUIRE(result);
    BOOST_TEST(result->user_id == "u-1");
    BOOST_TEST(result->job_id == id);
    BOOST_TEST(result->backend == "openai:test-model");
    auto analysis = json::parse(result->analysis).as_object();
    BOOST_TEST(analysis.at("summary").as_string() == "Studied Rust ownership for two hours.");
    BOOST_TEST(analysis.at("category").as_string() == "learning");
    BOOST_TEST(analysis.at("sentiment").as_string() == "positive");
    BOOST_TEST(analysis.at("tags").as_array().size() == 2u);

    // The profile job follows after the debounce and asks the model for a profile.
    auto p = co_await poll_until(
        [&svc] { return on_results(svc, [](kinds::ai::results_store& r) { return r.find_profile("u-1"); }); },
        [](const auto& profile) { return profile.has_value(); },
        [](const auto&) { return std::string("no profile for u-1"); }, 10s);
    BOOST_TEST(p->version == 1);
    BOOST_TEST(p->source_count == 1);
    BOOST_TEST(p->source_revision == result->revision);
    BOOST_TEST(json::parse(p->profile).at("interests").as_array().size() == 2u);
  });
  auto seen = server.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST(!seen[0].asks_for_profile());
  BOOST_TEST(seen[0].authorization == "Bearer sk-test");
  BOOST_TEST(seen[0].json.at("model").as_string() == "test-model");
  BOOST_TEST(seen[0].user_prompt().find(R"(Studied \"Rust\" ownership)") != std::string::npos);
  BOOST_TEST(seen[1].asks_for_profile());
  BOOST_TEST(seen[1].user_prompt().find("Studied Rust ownership for two hours.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_model_output_is_retried_then_succeeds) {
  fake_openai_server server([](auto& req, int n) {
    if (n == 0) return answer("Sure! The activity is about learning Rust.");
    return good_model(req);
  });
  ai_harness h;
  h.use_openai(server.url());
  h.settings.kinds["activity_processing"].retry_base_s = 0.05;
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 2);
    BOOST_REQUIRE_EQUAL(j.errors.size(), 1u);
    BOOST_TEST(j.errors[0].message.find("model output is not JSON") != std::string::npos,
               j.errors[0].message);
    BOOST_TEST(j.errors[0].message.find("openai:test-model") != std::string::npos);
    auto row = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_result("a-1"); });
    BOOST_TEST(row.has_value());
  });
}

BOOST_AUTO_TEST_CASE(a_429_with_retry_after_snoozes_without_using_an_attempt) {
  fake_openai_server server([](auto& req, int n) -> reply {
    if (n == 0) return {429, R"({"error":"rate limited"})", {{"Retry-After", "1"}}, {}, false, false};
    return good_model(req);
  });
  ai_harness h;
  h.use_openai(server.url());
  h.settings.profiles.debounce_s = 60;  // keep the profile job out of this test
  h.run([&](runtime::runtime& rt, kinds::ai::services&) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 1);  // the snooze gave the attempt back
    BOOST_TEST(j.errors.empty());
  });
  auto seen = server.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST((seen[1].at - seen[0].at >= 950ms), "retried after " << ms(seen[1].at - seen[0].at) << " ms");
}

BOOST_AUTO_TEST_CASE(a_500_is_retried_with_backoff) {
  fake_openai_server server([](auto& req, int n) -> reply {
    if (n < 2) return {500, "upstream exploded", {}, {}, false, false};
    return good_model(req);
  });
  ai_harness h;
  h.use_openai(server.url());
  h.settings.profiles.debounce_s = 60;
  h.settings.kinds["activity_processing"].retry_base_s = 0.2;
  h.settings.kinds["activity_processing"].retry_jitter = 0;
  h.run([&](runtime::runtime& rt, kinds::ai::services&) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 3);
    BOOST_REQUIRE_EQUAL(j.errors.size(), 2u);
    BOOST_TEST(j.errors[0].message.find("HTTP 500") != std::string::npos, j.errors[0].message);
    BOOST_TEST(j.errors[0].message.find("upstream exploded") != std::string::npos);
  });
  auto seen = server.requests();
  BOOST_REQUIRE_EQUAL(seen.size(), 3u);
  // Exponential: 0.2 s after the first failure, 0.4 s after the second.
  BOOST_TEST((seen[1].at - seen[0].at >= 190ms), ms(seen[1].at - seen[0].at));
  BOOST_TEST((seen[2].at - seen[1].at >= 390ms), ms(seen[2].at - seen[1].at));
}

BOOST_AUTO_TEST_CASE(a_401_dead_letters_at_once_with_the_body_in_the_error) {
  fake_openai_server server([](auto&, int) -> reply {
    return {401, R"({"error":{"message":"Incorrect API key provided"}})", {}, {}, false, false};
  });
  ai_harness h;
  h.use_openai(server.url());
  h.run([&](runtime::runtime& rt, kinds::ai::services& svc) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_TEST(j.attempt == 1);
    BOOST_REQUIRE_EQUAL(j.errors.size(), 1u);
    BOOST_TEST(j.errors[0].message.find("HTTP 401") != std::string::npos, j.errors[0].message);
    BOOST_TEST(j.errors[0].message.find("Incorrect API key provided") != std::string::npos);
    BOOST_TEST(j.note.find("Incorrect API key provided") != std::string::npos);
    auto row = co_await on_results(svc, [](kinds::ai::results_store& r) { return r.find_result("a-1"); });
    BOOST_TEST(!row.has_value());
  });
  BOOST_TEST(server.request_count() == 1);
}

BOOST_AUTO_TEST_CASE(a_malformed_payload_is_dead_lettered_naming_the_field_without_a_request) {
  fake_openai_server server([](auto& req, int) { return good_model(req); });
  ai_harness h;
  h.use_openai(server.url());
  h.run([&](runtime::runtime& rt, kinds::ai::services&) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(
        rt, R"({"user_id":"u-1","activity_id":"a-1","type":"note","occurred_at":"2026-11-28T10:00:00Z"})");
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_REQUIRE_EQUAL(j.errors.size(), 1u);
    BOOST_TEST(j.errors[0].message == "payload field 'text' is missing");
  });
  BOOST_TEST(server.request_count() == 0);
}

BOOST_AUTO_TEST_CASE(the_kind_timeout_cancels_a_request_the_server_never_answers) {
  fake_openai_server server([](auto&, int) { return hang(); });
  ai_harness h;
  h.use_openai(server.url());
  h.settings.kinds["activity_processing"].timeout_s = 0.3;
  h.settings.kinds["activity_processing"].max_attempts = 1;
  h.run([&](runtime::runtime& rt, kinds::ai::services&) -> asio::awaitable<void> {
    auto id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    auto j = co_await await_job(rt, id, in_state(jobs::state::dead));
    BOOST_REQUIRE_EQUAL(j.errors.size(), 1u);
    BOOST_TEST(j.errors[0].message.find("timed out") != std::string::npos, j.errors[0].message);
  });
  // The client hung up when the timeout fired, not when the runtime stopped.
  BOOST_REQUIRE(server.hang_started_at());
  BOOST_REQUIRE(server.hang_closed_at());
  const auto held = *server.hang_closed_at() - *server.hang_started_at();
  BOOST_TEST((held >= 250ms && held < 600ms), "the request was held " << ms(held) << " ms");
}

BOOST_AUTO_TEST_CASE(a_shutdown_cancels_the_request_within_100_ms_and_returns_the_job) {
  fake_openai_server server([](auto&, int) { return hang(); });
  ai_harness h;
  h.use_openai(server.url());
  h.settings.grace_s = 0;  // no grace period: cancel in-flight jobs as soon as claiming stops
  jobs::job_id id = 0;
  steady::time_point stopped_at{};
  h.run([&](runtime::runtime& rt, kinds::ai::services&) -> asio::awaitable<void> {
    id = co_await enqueue_activity(rt, activity_payload("u-1", "a-1", "Learning Rust"));
    while (!server.hang_started_at()) co_await sleep_for(2ms);
    stopped_at = steady::now();  // returning stops the runtime
  });
  BOOST_REQUIRE(server.hang_closed_at());
  const auto lag = *server.hang_closed_at() - stopped_at;
  BOOST_TEST((lag < 100ms), "the server saw the close " << ms(lag) << " ms after stop()");
  auto j = store::open(h.settings.db)->get(id, jobs::now());
  BOOST_REQUIRE(j);
  BOOST_TEST(j->st == jobs::state::available);
  BOOST_TEST(j->attempt == 0);
  BOOST_TEST(j->errors.empty());
}
