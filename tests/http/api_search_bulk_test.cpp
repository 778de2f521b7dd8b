// The API fixed and completed (issue 21, point 2): the DLQ's own filter holds, DELETE /api/v1/dlq
// purges by filter, bulk cancel and retry act on a filter (or only count with dry_run), and the
// job search filters by kind, time range and error text. The store's side of the search runs on
// both stores in store_conformance_test (list_searches_by_time_error_text_and_key).
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

std::vector<std::int64_t> ids_of(const json::value& list) {
  std::vector<std::int64_t> out;
  for (auto& j : list.at("jobs").as_array()) out.push_back(j.at("id").as_int64());
  return out;
}

// The list of one id (written as a call: GCC 12 cannot brace-initialise inside a coroutine here).
std::vector<std::int64_t> just(std::int64_t id) { return std::vector<std::int64_t>(1, id); }

asio::awaitable<std::int64_t> dead_job(http::api& api, std::string queue) {
  const auto id = co_await create(api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1,"queue":")" +
                                           queue + R"("})");
  co_await await_state(api, id, "dead");
  co_return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_search_bulk)

BOOST_AUTO_TEST_CASE(the_dlq_lists_dead_jobs_whatever_the_query_says) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const auto done = co_await create(api, noop);
    co_await await_state(api, done, "completed");
    const auto dead = co_await dead_job(api, std::string("default"));
    auto plain = co_await call(api, "GET", "/api/v1/dlq");
    BOOST_TEST(ids_of(body_of(plain)) == just(dead), boost::test_tools::per_element());
    auto overridden = co_await call(api, "GET", "/api/v1/dlq?state=completed");
    BOOST_TEST(overridden.status == 422u);
    BOOST_TEST(error_code(overridden) == "invalid_parameter");
    auto same = co_await call(api, "GET", "/api/v1/dlq?state=dead&kind=fail");
    BOOST_TEST(ids_of(body_of(same)) == just(dead), boost::test_tools::per_element());
  });
}

BOOST_AUTO_TEST_CASE(delete_dlq_purges_by_filter_or_all) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const auto in_default = co_await dead_job(api, std::string("default"));
    const auto in_other = co_await dead_job(api, std::string("other"));
    auto unfiltered = co_await call(api, "DELETE", "/api/v1/dlq");
    BOOST_TEST(unfiltered.status == 422u);
    BOOST_TEST(error_code(unfiltered) == "filter_required");
    auto by_queue = co_await call(api, "DELETE", "/api/v1/dlq?queue=other");
    BOOST_TEST(by_queue.status == 200u);
    BOOST_TEST(body_of(by_queue).at("purged").as_int64() == 1);
    BOOST_TEST((co_await call(api, "GET", "/api/v1/jobs/" + std::to_string(in_other))).status == 404u);
    BOOST_TEST(ids_of(body_of(co_await call(api, "GET", "/api/v1/dlq"))) == just(in_default),
               boost::test_tools::per_element());
    auto bad = co_await call(api, "DELETE", "/api/v1/dlq", R"({"colour":"red"})");
    BOOST_TEST(bad.status == 400u);
    BOOST_TEST(error_code(bad) == "bad_request");
    auto all = co_await call(api, "DELETE", "/api/v1/dlq", R"({"all":true})");
    BOOST_TEST(body_of(all).at("purged").as_int64() == 1);
    BOOST_TEST(count_of(body_of(co_await call(api, "GET", "/api/v1/dlq"))) == 0);
  });
}

BOOST_AUTO_TEST_CASE(bulk_cancel_by_filter_with_a_dry_run_first) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    std::vector<std::int64_t> later;
    for (int i = 0; i < 3; ++i) later.push_back(co_await create(api, R"({"kind":"noop","delay_s":3600})"));
    const auto sleeper = co_await create(api, R"({"kind":"sleep","payload":{"ms":1},"delay_s":3600})");
    auto none = co_await call(api, "POST", "/api/v1/jobs/cancel", "{}");
    BOOST_TEST(none.status == 422u);
    BOOST_TEST(error_code(none) == "filter_required");
    auto dry = co_await call(api, "POST", "/api/v1/jobs/cancel", R"({"kind":"noop","dry_run":true})");
    BOOST_TEST(dry.status == 200u);
    BOOST_TEST(body_of(dry).at("matched").as_int64() == 3);
    for (auto id : later) BOOST_TEST(state_of(co_await get_job(api, id)) == "scheduled");
    auto done = co_await call(api, "POST", "/api/v1/jobs/cancel", R"({"kind":"noop","state":"scheduled"})");
    BOOST_TEST(done.status == 200u, done.body);
    BOOST_TEST(body_of(done).at("cancelled").as_int64() == 3);
    for (auto id : later) BOOST_TEST(state_of(co_await get_job(api, id)) == "cancelled");
    BOOST_TEST(state_of(co_await get_job(api, sleeper)) == "scheduled");
    // Again: finished jobs are not cancelled twice.
    auto again = co_await call(api, "POST", "/api/v1/jobs/cancel", R"({"kind":"noop","dry_run":true})");
    BOOST_TEST(body_of(again).at("matched").as_int64() == 0);
  });
}

BOOST_AUTO_TEST_CASE(bulk_retry_makes_waiting_jobs_due_now) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    std::vector<std::int64_t> later;
    for (int i = 0; i < 2; ++i)
      later.push_back(co_await create(api, R"({"kind":"noop","queue":"other","delay_s":3600})"));
    const auto stays = co_await create(api, R"({"kind":"noop","delay_s":3600})");
    auto dry = co_await call(api, "POST", "/api/v1/jobs/retry", R"({"queue":"other","dry_run":true})");
    BOOST_TEST(body_of(dry).at("matched").as_int64() == 2);
    auto query = co_await call(api, "POST", "/api/v1/jobs/retry?queue=other", "{}");
    BOOST_TEST(query.status == 400u);
    auto done = co_await call(api, "POST", "/api/v1/jobs/retry", R"({"queue":"other"})");
    BOOST_TEST(done.status == 200u, done.body);
    BOOST_TEST(body_of(done).at("due_now").as_int64() == 2);
    for (auto id : later) co_await await_state(api, id, "completed");
    BOOST_TEST(state_of(co_await get_job(api, stays)) == "scheduled");
  });
}

BOOST_AUTO_TEST_CASE(search_by_kind_time_range_and_error_text) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    const auto done = co_await create(api, noop);
    co_await await_state(api, done, "completed");
    const auto dead = co_await dead_job(api, std::string("default"));
    const auto dead_job_body = co_await get_job(api, dead);
    const std::string message(dead_job_body.at("errors").as_array().at(0).at("message").as_string());
    BOOST_TEST_MESSAGE("the dead job's error: " << message);
    // A word of the error, in another case.
    std::string word = message.substr(0, message.find(' '));
    for (auto& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto by_error = co_await call(api, "GET", "/api/v1/jobs?error=" + word);
    BOOST_TEST(by_error.status == 200u, by_error.body);
    BOOST_TEST(ids_of(body_of(by_error)) == just(dead), boost::test_tools::per_element());
    const std::string created(dead_job_body.at("created_at").as_string());
    auto since = co_await call(api, "GET", "/api/v1/jobs?kind=fail&created_after=" + created);
    BOOST_TEST(ids_of(body_of(since)) == just(dead), boost::test_tools::per_element());
    auto before = co_await call(api, "GET", "/api/v1/jobs?created_before=" + created);
    BOOST_TEST(ids_of(body_of(before)) == just(done), boost::test_tools::per_element());
    auto finished = co_await call(api, "GET", "/api/v1/jobs?finished_after=2000-01-01T00:00:00Z&state=completed");
    BOOST_TEST(ids_of(body_of(finished)) == just(done), boost::test_tools::per_element());
    auto bad_time = co_await call(api, "GET", "/api/v1/jobs?created_after=yesterday");
    BOOST_TEST(bad_time.status == 422u);
    BOOST_TEST(error_code(bad_time) == "invalid_parameter");
    auto unknown = co_await call(api, "GET", "/api/v1/jobs?colour=red");
    BOOST_TEST(unknown.status == 400u);
    BOOST_TEST(error_code(unknown) == "bad_request");
  });
}

BOOST_AUTO_TEST_SUITE_END()
