// Operator actions through the admin API, in-process against a real runtime: listing and paging,
// pause/resume, cancel, retry, the dead-letter queue, readiness during shutdown.
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

BOOST_AUTO_TEST_SUITE(api_operations)

BOOST_AUTO_TEST_CASE(pagination_walks_every_job_once_newest_first) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    std::vector<std::int64_t> created;
    for (int i = 0; i < 23; ++i) created.push_back(co_await create(api, R"({"kind":"noop","delay_s":3600})"));
    std::vector<std::int64_t> seen;
    std::string target = "/api/v1/jobs?limit=10";
    int pages = 0;
    for (;;) {
      BOOST_REQUIRE(++pages <= 4);
      auto r = co_await call(api, "GET", target);
      BOOST_REQUIRE_EQUAL(r.status, 200u);
      auto page = body_of(r);
      for (auto& j : page.at("jobs").as_array()) seen.push_back(j.at("id").as_int64());
      if (page.at("next_cursor").is_null()) break;
      target = "/api/v1/jobs?limit=10&cursor=" + std::to_string(page.at("next_cursor").as_int64());
    }
    BOOST_TEST(pages == 3);
    std::vector<std::int64_t> newest_first(created.rbegin(), created.rend());
    BOOST_TEST(seen == newest_first, boost::test_tools::per_element());

    // Filters combine with the cursor; percent-encoded values are decoded.
    auto other = co_await create(api, R"({"kind":"sleep","queue":"other","delay_s":3600})");
    auto by_kind = body_of(co_await call(api, "GET", "/api/v1/jobs?kind=sl%65ep&state=scheduled"));
    BOOST_REQUIRE_EQUAL(count_of(by_kind), 1);
    BOOST_TEST(by_kind.at("jobs").at(0).at("id").as_int64() == other);
    auto by_queue = body_of(co_await call(
        api, "GET", "/api/v1/jobs?queue=default&limit=5&cursor=" + std::to_string(created[10])));
    BOOST_REQUIRE_EQUAL(count_of(by_queue), 5);
    BOOST_TEST(by_queue.at("jobs").at(0).at("id").as_int64() == created[9]);
    BOOST_TEST(count_of(body_of(co_await call(api, "GET", "/api/v1/jobs?state=completed"))) == 0);

    for (auto bad :
         {"limit=0", "limit=1001", "limit=ten", "cursor=0", "cursor=-3", "cursor=x", "state=bogus"}) {
      auto r = co_await call(api, "GET", std::string("/api/v1/jobs?") + bad);
      BOOST_TEST(r.status == 422u, bad << " answered " << r.status);
      BOOST_TEST(error_code(r) == "invalid_parameter");
    }
    auto unknown = co_await call(api, "GET", "/api/v1/jobs?colour=blue");
    BOOST_TEST(unknown.status == 400u);
    auto malformed = co_await call(api, "GET", "/api/v1/jobs?kind=%zz");
    BOOST_TEST(malformed.status == 400u);
  });
}

BOOST_AUTO_TEST_CASE(a_paused_queue_claims_nothing_until_resumed) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto paused = co_await call(api, "POST", "/api/v1/queues/other/pause");
    BOOST_REQUIRE_EQUAL(paused.status, 200u);
    BOOST_TEST(json::serialize(body_of(paused)) == R"({"name":"other","paused":true,"served_here":true})");
    auto held = co_await create(api, R"({"kind":"noop","queue":"other"})");
    // A job on a served queue runs meanwhile, and the paused one is still waiting after several
    // poll intervals (0.2 s each).
    auto runs = co_await create(api, noop);
    co_await await_state(api, runs, "completed");
    const auto until = steady::now() + 700ms;
    while (steady::now() < until) {
      BOOST_REQUIRE_EQUAL(state_of(co_await get_job(api, held)), "available");
      co_await sleep_for(20ms);
    }
    auto queues = body_of(co_await call(api, "GET", "/api/v1/queues"));
    for (auto& q : queues.at("queues").as_array()) {
      if (q.at("name").as_string() != "other") continue;
      BOOST_TEST(q.at("paused").as_bool());
      BOOST_TEST(q.at("counts").at("available").as_int64() == 1);
      BOOST_TEST(q.at("oldest_available_age_s").as_double() >= 0.7);
    }
    auto resumed = co_await call(api, "POST", "/api/v1/queues/other/resume");
    BOOST_REQUIRE_EQUAL(resumed.status, 200u);
    BOOST_TEST(body_of(resumed).at("paused").as_bool() == false);
    co_await await_state(api, held, "completed", 2s);

    // A queue no node serves yet is paused all the same (stored for the nodes to come), and
    // listed; a name no queue can have is refused.
    auto unserved = co_await call(api, "POST", "/api/v1/queues/nope/pause");
    BOOST_REQUIRE_EQUAL(unserved.status, 200u);
    BOOST_TEST(json::serialize(body_of(unserved)) == R"({"name":"nope","paused":true,"served_here":false})");
    bool listed = false;
    const auto listing = body_of(co_await call(api, "GET", "/api/v1/queues"));
    for (auto& q : listing.at("queues").as_array()) {
      if (q.at("name").as_string() != "nope") continue;
      listed = true;
      BOOST_TEST(q.at("paused").as_bool());
      BOOST_TEST(q.at("paused_since").is_string());
      BOOST_TEST(!q.at("served_here").as_bool());
    }
    BOOST_TEST(listed);
    auto invalid = co_await call(api, "POST", "/api/v1/queues/no*such/pause");
    BOOST_TEST(invalid.status == 422u);
    BOOST_TEST(error_code(invalid) == "invalid_queue");
  });
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_running_sleep_job_within_100_ms) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto id = co_await create(api, R"({"kind":"sleep","payload":{"ms":60000}})");
    co_await await_state(api, id, "running");
    const auto asked = steady::now();
    auto r = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(id) + "/cancel");
    BOOST_REQUIRE_EQUAL(r.status, 202u);
    BOOST_TEST(body_of(r).at("result").as_string() == "cancel_requested");
    auto job = co_await await_state(api, id, "cancelled", 100ms, 1ms);
    const std::chrono::duration<double, std::milli> took = steady::now() - asked;
    BOOST_TEST_MESSAGE("cancelled after " << took.count() << " ms");
    BOOST_TEST(job.at("errors").as_array().empty());

    // A job that has not started is cancelled at once.
    auto waiting = co_await create(api, R"({"kind":"noop","delay_s":3600})");
    auto now = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(waiting) + "/cancel");
    BOOST_TEST(now.status == 200u);
    BOOST_TEST(body_of(now).at("result").as_string() == "cancelled");
    BOOST_TEST(state_of(co_await get_job(api, waiting)) == "cancelled");
  });
}

BOOST_AUTO_TEST_CASE(retry_makes_a_scheduled_job_run_now) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto id = co_await create(api, R"({"kind":"noop","delay_s":3600})");
    BOOST_TEST(state_of(co_await get_job(api, id)) == "scheduled");
    auto r = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(id) + "/retry");
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    BOOST_TEST(body_of(r).at("result").as_string() == "due_now");
    co_await await_state(api, id, "completed", 2s);
  });
}

BOOST_AUTO_TEST_CASE(dead_jobs_are_listed_requeued_and_purged) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    std::vector<std::int64_t> dead;
    dead.push_back(co_await create(api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1})"));
    dead.push_back(co_await create(
        api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1,"queue":"other"})"));
    // No handler: dead after one attempt. The API refuses unregistered kinds, so this one comes in
    // through the library, as from a node that runs a kind this one does not.
    std::vector<jobs::new_job> ghost(1);
    ghost[0].kind = "ghost";
    ghost[0].max_attempts = 1;
    auto ghost_ids = co_await rt.enqueue(std::move(ghost));
    dead.push_back(ghost_ids.front().id);
    dead.push_back(co_await create(api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1})"));
    for (auto id : dead) co_await await_state(api, id, "dead");
    auto dlq = body_of(co_await call(api, "GET", "/api/v1/dlq"));
    BOOST_TEST(count_of(dlq) == 4);
    // The list names each job's last error; the job's own record has the history.
    BOOST_TEST(dlq.at("jobs").at(0).at("note").as_string() == "diagnostic failure 1 of 99");
    BOOST_TEST((co_await get_job(api, dead[3])).at("errors").as_array().size() == 1u);
    BOOST_TEST(count_of(body_of(co_await call(api, "GET", "/api/v1/dlq?kind=ghost"))) == 1);

    // Requeued jobs would die again at once: pause both queues so they stay where requeue put them.
    co_await call(api, "POST", "/api/v1/queues/default/pause");
    co_await call(api, "POST", "/api/v1/queues/other/pause");
    auto one = co_await call(api, "POST", "/api/v1/dlq/" + std::to_string(dead[0]) + "/requeue");
    BOOST_REQUIRE_EQUAL(one.status, 200u);
    BOOST_TEST(json::serialize(body_of(one)) == R"({"requeued":1})");
    auto back = co_await get_job(api, dead[0]);
    BOOST_TEST(state_of(back) == "available");
    BOOST_TEST(back.at("attempt").as_int64() == 0);
    auto again = co_await call(api, "POST", "/api/v1/dlq/" + std::to_string(dead[0]) + "/requeue");
    BOOST_TEST(again.status == 404u);

    auto by_query = co_await call(api, "POST", "/api/v1/dlq/requeue?kind=ghost");
    BOOST_TEST(json::serialize(body_of(by_query)) == R"({"requeued":1})");
    BOOST_TEST(state_of(co_await get_job(api, dead[2])) == "available");
    auto by_body = co_await call(api, "POST", "/api/v1/dlq/requeue", R"({"queue":"other"})");
    BOOST_TEST(json::serialize(body_of(by_body)) == R"({"requeued":1})");
    BOOST_TEST(state_of(co_await get_job(api, dead[1])) == "available");
    auto none = co_await call(api, "POST", "/api/v1/dlq/requeue", R"({"kind":"fail","queue":"other"})");
    BOOST_TEST(json::serialize(body_of(none)) == R"({"requeued":0})");
    for (auto bad : {R"({"kind":1})", R"({"colour":"x"})", "[]", "{"}) {
      auto r = co_await call(api, "POST", "/api/v1/dlq/requeue", bad);
      BOOST_TEST(r.status == 400u, bad);
    }
    BOOST_TEST((co_await call(api, "POST", "/api/v1/dlq/requeue?colour=x")).status == 400u);
    BOOST_TEST(state_of(co_await get_job(api, dead[3])) == "dead");  // untouched by the filters

    auto purge = co_await call(api, "DELETE", "/api/v1/dlq/" + std::to_string(dead[3]));
    BOOST_REQUIRE_EQUAL(purge.status, 200u);
    BOOST_TEST(json::serialize(body_of(purge)) == R"({"purged":1})");
    BOOST_TEST((co_await call(api, "GET", "/api/v1/jobs/" + std::to_string(dead[3]))).status == 404u);
    BOOST_TEST((co_await call(api, "DELETE", "/api/v1/dlq/" + std::to_string(dead[3]))).status == 404u);
    BOOST_TEST(count_of(body_of(co_await call(api, "GET", "/api/v1/dlq"))) == 0);

    // Resumed, the requeued jobs run again (and, failing again, die again).
    co_await call(api, "POST", "/api/v1/queues/default/resume");
    co_await call(api, "POST", "/api/v1/queues/other/resume");
    auto rerun = co_await await_state(api, dead[0], "dead");
    BOOST_TEST(rerun.at("errors").as_array().size() == 2u);
    // And requeue-all takes them all.
    for (auto id : {dead[1], dead[2]}) co_await await_state(api, id, "dead");
    co_await call(api, "POST", "/api/v1/queues/default/pause");
    co_await call(api, "POST", "/api/v1/queues/other/pause");
    auto all = co_await call(api, "POST", "/api/v1/dlq/requeue");
    BOOST_TEST(json::serialize(body_of(all)) == R"({"requeued":3})");
  });
}

BOOST_AUTO_TEST_CASE(readyz_turns_503_once_the_runtime_drains) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    auto ready = co_await call(api, "GET", "/readyz");
    BOOST_TEST(ready.status == 200u);
    BOOST_TEST(json::serialize(body_of(ready)) == R"({"status":"ready"})");
    rt.stop();
    auto draining = co_await call(api, "GET", "/readyz");
    BOOST_TEST(draining.status == 503u);
    BOOST_TEST(error_code(draining) == "shutting_down");
    auto healthz = co_await call(api, "GET", "/healthz");
    BOOST_TEST(healthz.status == 200u);
    BOOST_TEST(json::serialize(body_of(healthz)) == R"({"status":"alive"})");
    auto refused = co_await call(api, "POST", "/api/v1/jobs", noop);
    BOOST_TEST(refused.status == 503u);
    BOOST_TEST(error_code(refused) == "shutting_down");
  });
}


// An application reports its job's progress with the attempt's token (what an HTTP kind sends),
// never with the admin token, and only for that job, only while the attempt runs.
BOOST_AUTO_TEST_CASE(an_attempt_token_reports_progress_for_its_job_only_while_it_runs) {
  api_harness h;
  std::mutex m;
  std::map<jobs::job_id, std::string> tokens;  // what each attempt handed its "application"
  std::atomic<bool> finish{false};
  h.kinds.add("remote", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    {
      std::lock_guard lock(m);
      tokens[ctx.job().id] = ctx.attempt_token();
      BOOST_TEST(ctx.attempt_token() == tokens[ctx.job().id], "one token per attempt");
    }
    while (!finish) co_await sleep_for(5ms);
    co_return jobs::outcome::success();
  });
  h.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        const auto a = co_await create(api, R"({"kind":"remote"})");
        const auto b = co_await create(api, R"({"kind":"remote"})");
        co_await await_state(api, a, "running");
        co_await await_state(api, b, "running");
        std::string token_a, token_b;
        co_await poll_until(
            [&]() -> asio::awaitable<bool> {
              std::lock_guard lock(m);
              co_return tokens.size() == 2;
            },
            [](bool both) { return both; }, [](bool) { return std::string("no tokens"); }, 5s);
        {
          std::lock_guard lock(m);
          token_a = tokens[a];
          token_b = tokens[b];
        }
        BOOST_TEST(token_a.size() == 48u);
        BOOST_TEST(token_a != token_b);
        auto report = [&](jobs::job_id id, std::string token, std::string body) -> asio::awaitable<http::response> {
          http::request req{"POST", "/api/v1/jobs/" + std::to_string(id) + "/progress", "",
                            std::move(body)};
          req.content_type = "application/json";
          req.host = "127.0.0.1:8080";
          req.attempt_token = std::move(token);
          co_return co_await api.handle(req);
        };
        auto ok = co_await report(a, token_a, R"({"fraction":0.3,"note":"page 3 of 10"})");
        BOOST_TEST(ok.status == 202u, ok.body);
        // Another job's token, no token, nonsense: refused, nothing stored.
        BOOST_TEST((co_await report(a, token_b, R"({"fraction":0.9})")).status == 403u);
        BOOST_TEST((co_await report(a, "", R"({"fraction":0.9})")).status == 403u);
        BOOST_TEST((co_await report(a, "nonsense", R"({"fraction":0.9})")).status == 403u);
        BOOST_TEST((co_await report(a, token_a, R"({"fraction":2})")).status == 422u);
        BOOST_TEST((co_await report(a, token_a, R"({"note":"no fraction"})")).status == 400u);
        BOOST_TEST((co_await report(a, token_a, R"({"fraction":0.5,"extra":1})")).status == 400u);
        auto shown = co_await poll_until(
            [&] { return get_job(api, a); }, [](const json::object& j) { return !j.at("progress").is_null(); },
            [](const json::object&) { return std::string("no progress shown"); }, 5s);
        BOOST_TEST(shown.at("progress").at("fraction").to_number<double>() == 0.3);
        BOOST_TEST(shown.at("progress").at("note").as_string() == "page 3 of 10");
        BOOST_TEST((co_await get_job(api, b)).at("progress").is_null());

        finish = true;
        co_await await_state(api, a, "completed");
        auto late = co_await report(a, token_a, R"({"fraction":1})");
        BOOST_TEST(late.status == 403u, "a token dies with its attempt: " << late.body);
        BOOST_TEST((co_await get_job(api, a)).at("progress").is_null());
      });
}

BOOST_AUTO_TEST_SUITE_END()
