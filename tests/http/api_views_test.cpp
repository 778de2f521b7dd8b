// What operators read: /api/v1/queues, /api/v1/stats and /metrics report the jobs that ran.
#include <unistd.h>

#include <spool/version.hpp>
#include <map>
#include <sstream>

#include "http/metrics_text.hpp"
#include "jobs/json.hpp"
#include "tests/http/api_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

// Runs 5 noop jobs to completion, one fail job into the DLQ (1 attempt) and one fail job that
// succeeds on its second attempt; leaves one job scheduled and one available on the paused queue
// "other". Returns nothing: the counts are the test's constants.
asio::awaitable<void> run_workload(http::api& api) {
  std::vector<std::int64_t> done;
  for (int i = 0; i < 5; ++i) done.push_back(co_await create(api, R"({"kind":"noop"})"));
  auto dead = co_await create(api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1})");
  auto flaky = co_await create(api, R"({"kind":"fail","payload":{"times":1},"max_attempts":2})");
  for (auto id : done) co_await await_state(api, id, "completed");
  co_await await_state(api, dead, "dead");
  // The retry delay of the flaky job is the kind's policy: make it due now instead of waiting.
  co_await await_state(api, flaky, "retrying");
  auto retried = co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(flaky) + "/retry");
  BOOST_REQUIRE_EQUAL(retried.status, 200u);
  co_await await_state(api, flaky, "completed");
  co_await create(api, R"({"kind":"noop","delay_s":3600})");
  co_await call(api, "POST", "/api/v1/queues/other/pause");
  co_await create(api, R"({"kind":"noop","queue":"other"})");
}

// The value of the sample whose name and labels are exactly `series`; NaN (and a test failure)
// when it is missing.
bool has_series(const std::string& page, const std::string& prefix) {
  return page.find("\n" + prefix) != std::string::npos;
}

double sample(const std::string& page, const std::string& series) {
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  BOOST_ERROR("no sample " << series << " in /metrics");
  return std::nan("");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_views)

BOOST_AUTO_TEST_CASE(queues_report_counts_concurrency_and_pause) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    co_await run_workload(api);
    auto r = co_await call(api, "GET", "/api/v1/queues");
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    auto queues = body_of(r).at("queues").as_array();
    BOOST_REQUIRE_EQUAL(queues.size(), 2u);
    const auto& def = queues[0].as_object();
    const auto& other = queues[1].as_object();
    BOOST_TEST(def.at("name").as_string() == "default");
    BOOST_TEST(other.at("name").as_string() == "other");
    BOOST_TEST(
        json::serialize(def.at("counts")) ==
        R"({"available":0,"cancelled":0,"completed":6,"dead":1,"pending":0,"retrying":0,"running":0,"scheduled":1})");
    BOOST_TEST(def.at("concurrency").as_int64() == 10);
    BOOST_TEST(def.at("paused").as_bool() == false);
    BOOST_TEST(def.at("running_here").as_int64() == 0);
    BOOST_TEST(def.at("served_here").as_bool());
    BOOST_TEST(def.at("oldest_available_age_s").is_null());
    BOOST_TEST(other.at("counts").at("available").as_int64() == 1);
    BOOST_TEST(other.at("concurrency").as_int64() == 2);
    BOOST_TEST(other.at("paused").as_bool());
    BOOST_TEST(other.at("oldest_available_age_s").is_double());
  });
}

BOOST_AUTO_TEST_CASE(a_job_shows_the_result_its_handler_returned) {
  api_harness h;
  h.kinds.add("answer", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    co_return jobs::outcome::success(R"({"tokens":12,"labels":["a","b"]})");
  });
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto answered = co_await create(api, R"({"kind":"answer","force":true})");
    auto plain = co_await create(api, R"({"kind":"noop"})");
    co_await await_state(api, answered, "completed");
    co_await await_state(api, plain, "completed");
    auto r = co_await call(api, "GET", "/api/v1/jobs/" + std::to_string(answered));
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    BOOST_TEST(json::serialize(body_of(r).at("result")) == R"({"tokens":12,"labels":["a","b"]})");
    auto p = co_await call(api, "GET", "/api/v1/jobs/" + std::to_string(plain));
    BOOST_TEST(body_of(p).at("result").is_null());
  });
}

BOOST_AUTO_TEST_CASE(stats_report_totals_and_rates) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    co_await run_workload(api);
    auto r = co_await call(api, "GET", "/api/v1/stats");
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    auto stats = body_of(r).as_object();
    BOOST_TEST(
        json::serialize(stats.at("totals")) ==
        R"({"available":1,"cancelled":0,"completed":6,"dead":1,"pending":0,"retrying":0,"running":0,"scheduled":1})");
    // 8 attempts ended: 5 noop and 1 flaky success, 1 flaky retry, 1 dead; 2 of them failures.
    for (auto window : {"1m", "5m", "15m"}) {
      const auto& w = stats.at("windows").at(window).as_object();
      BOOST_TEST(w.at("finished").as_int64() == 8, window);
      BOOST_TEST(w.at("failed").as_int64() == 2, window);
      BOOST_TEST(w.at("failure_rate").as_double() == 0.25, window);
    }
    BOOST_TEST(stats.at("windows").at("1m").at("throughput_per_s").as_double() == 8.0 / 60);
    BOOST_TEST(stats.at("windows").at("15m").at("throughput_per_s").as_double() == 8.0 / 900);
  });
}

BOOST_AUTO_TEST_CASE(metrics_match_the_jobs_that_ran) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    co_await run_workload(api);
    auto r = co_await call(api, "GET", "/metrics");
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    const auto& m = r.body;
    const std::string noop = R"(queue="default",kind="noop")", fail = R"(queue="default",kind="fail")";
    BOOST_TEST(sample(m, "spool_jobs_enqueued_total{" + noop + "}") == 6);
    BOOST_TEST(sample(m, "spool_jobs_enqueued_total{" + fail + "}") == 2);
    BOOST_TEST(sample(m, R"(spool_jobs_enqueued_total{queue="other",kind="noop"})") == 1);
    BOOST_TEST(sample(m, "spool_jobs_finished_total{" + noop + ",outcome=\"succeeded\"}") == 5);
    BOOST_TEST(sample(m, "spool_jobs_finished_total{" + fail + ",outcome=\"succeeded\"}") == 1);
    BOOST_TEST(sample(m, "spool_jobs_finished_total{" + fail + ",outcome=\"dead\"}") == 1);
    BOOST_TEST(sample(m, "spool_jobs_finished_total{" + fail + ",outcome=\"cancelled\"}") == 0);
    // A retry is an attempt's outcome, not a job's: counted in attempts only.
    BOOST_TEST(!has_series(m, "spool_jobs_finished_total{" + fail + ",outcome=\"failed\"}"));
    BOOST_TEST(!has_series(m, "spool_jobs_finished_total{" + noop + ",outcome=\"snoozed\"}"));
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + fail + ",outcome=\"failed\"}") == 1);
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + fail + ",outcome=\"succeeded\"}") == 1);
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + fail + ",outcome=\"dead\"}") == 1);
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + noop + ",outcome=\"succeeded\"}") == 5);
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + noop + ",outcome=\"snoozed\"}") == 0);
    BOOST_TEST(sample(m, "spool_job_attempts_total{" + noop + ",outcome=\"interrupted\"}") == 0);
    // Job histograms reach an hour: kinds may run for minutes.
    BOOST_TEST(sample(m, "spool_job_duration_seconds_bucket{" + noop + ",le=\"3600\"}") == 5);
    BOOST_TEST(sample(m, "spool_job_wait_seconds_bucket{" + noop + ",le=\"3600\"}") == 5);
    BOOST_TEST(sample(m, "spool_job_duration_seconds_count{" + noop + "}") == 5);
    BOOST_TEST(sample(m, "spool_job_duration_seconds_bucket{" + noop + ",le=\"+Inf\"}") == 5);
    BOOST_TEST(sample(m, "spool_job_duration_seconds_count{" + fail + "}") == 3);
    BOOST_TEST(sample(m, "spool_job_wait_seconds_count{" + noop + "}") == 5);
    BOOST_TEST(sample(m, R"(spool_jobs{queue="default",state="completed"})") == 6);
    BOOST_TEST(sample(m, R"(spool_jobs{queue="default",state="scheduled"})") == 1);
    BOOST_TEST(sample(m, R"(spool_jobs{queue="other",state="available"})") == 1);
    BOOST_TEST(sample(m, R"(spool_jobs_running{queue="default"})") == 0);
    BOOST_TEST(sample(m, "spool_dead_letter_jobs") == 1);
    // This node leads (the harness's only one), so it exports the cluster's gauges.
    BOOST_TEST(sample(m, "spool_leader") == 1);
    BOOST_TEST(sample(m, R"(spool_queue_depth{queue="other"})") == 1);
    BOOST_TEST(sample(m, R"(spool_queue_depth{queue="default"})") == 0);
    BOOST_TEST(sample(m, R"(spool_queue_latency_seconds{queue="other"})") >= 0);
    BOOST_TEST(sample(m, R"(spool_queue_latency_seconds{queue="default"})") == 0);
    BOOST_TEST(sample(m, R"(spool_node_heartbeat_age_seconds{node=")" + rt.worker_id() + "\"}") >= 0);
    BOOST_TEST(sample(m, "spool_node_heartbeat_timeout_seconds") == rt.settings().leader_ttl_s);
    BOOST_TEST(sample(m, "spool_rescued_total") == 0);
    BOOST_TEST(sample(m, R"(spool_db_operation_seconds_count{op="insert"})") == 9);
    BOOST_TEST(sample(m, R"(spool_build_info{version=")" SPOOL_VERSION "\"}") == 1);
    BOOST_TEST(sample(m, "process_resident_memory_bytes") > 1e6);
    BOOST_TEST(sample(m, "process_open_fds") > 2);
    BOOST_TEST(sample(m, "process_cpu_seconds_total") >= 0);
    const double now_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    BOOST_TEST(sample(m, "process_start_time_seconds") <= now_s + 1);
    BOOST_TEST(sample(m, "process_start_time_seconds") > now_s - 3600);
    for (auto family :
         {"spool_jobs_enqueued_total counter", "spool_jobs_finished_total counter",
          "spool_job_duration_seconds histogram", "spool_job_wait_seconds histogram", "spool_jobs gauge",
          "spool_jobs_running gauge", "spool_dead_letter_jobs gauge", "spool_rescued_total counter",
          "spool_queue_notifications_total counter",
          "spool_db_operation_seconds histogram", "spool_build_info gauge", "spool_job_attempts_total counter",
          "spool_leader gauge", "spool_queue_depth gauge", "spool_queue_latency_seconds gauge",
          "spool_node_heartbeat_age_seconds gauge", "process_start_time_seconds gauge"})
      BOOST_TEST(m.find(std::string("# TYPE ") + family + "\n") != std::string::npos, family);
  });
}

BOOST_AUTO_TEST_CASE(a_node_that_does_not_lead_exports_no_cluster_gauges) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    co_await run_workload(api);
    // What a follower's scrape renders: every node would read the same cluster numbers, and a
    // sum over nodes would count each job once per node.
    const auto page = http::render_metrics(rt, nullptr);
    BOOST_TEST(sample(page, "spool_leader") == 0);
    for (auto family : {"spool_jobs{", "spool_dead_letter_jobs", "spool_queue_depth", "spool_queue_latency_seconds",
                        "spool_node_heartbeat_age_seconds"})
      BOOST_TEST(!has_series(page, family), family);
    BOOST_TEST(sample(page, R"(spool_jobs_enqueued_total{queue="default",kind="noop"})") == 6);
  });
}

BOOST_AUTO_TEST_CASE(metrics_count_a_cancelled_job) {
  api_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto id = co_await create(api, R"({"kind":"sleep","payload":{"ms":60000}})");
    co_await await_state(api, id, "running");
    // The claim commits before the producer starts the attempt (with a standing claim, inside
    // the enqueue's transaction): the gauge of this process follows a moment later.
    auto running = co_await call(api, "GET", "/metrics");
    for (int i = 0; i < 2000 && sample(running.body, R"(spool_jobs_running{queue="default"})") != 1; ++i) {
      co_await sleep_for(5ms);
      running = co_await call(api, "GET", "/metrics");
    }
    BOOST_TEST(sample(running.body, R"(spool_jobs_running{queue="default"})") == 1);
    BOOST_TEST(sample(running.body, R"(spool_jobs{queue="default",state="running"})") == 1);
    co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(id) + "/cancel");
    co_await await_state(api, id, "cancelled");
    auto after = co_await call(api, "GET", "/metrics");
    BOOST_TEST(sample(after.body,
                      R"(spool_jobs_finished_total{queue="default",kind="sleep",outcome="cancelled"})") == 1);
    BOOST_TEST(sample(after.body, R"(spool_jobs{queue="default",state="cancelled"})") == 1);
  });
}

BOOST_AUTO_TEST_CASE(nodes_list_this_node_as_the_alive_leader) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    // The node registers and takes the leadership when run() starts.
    for (int i = 0; i < 200; ++i) {
      auto r = co_await call(api, "GET", "/api/v1/nodes");
      BOOST_REQUIRE_EQUAL(r.status, 200u);
      auto nodes = body_of(r).at("nodes").as_array();
      if (!nodes.empty()) {
        BOOST_REQUIRE_EQUAL(nodes.size(), 1u);
        const auto& n = nodes[0].as_object();
        BOOST_TEST(n.at("id").as_string() == rt.worker_id());
        BOOST_TEST(n.at("pid").as_int64() == ::getpid());
        BOOST_TEST(n.at("leader").as_bool());
        BOOST_TEST(n.at("alive").as_bool());
        BOOST_TEST(n.at("self").as_bool());
        BOOST_TEST(json::serialize(n.at("queues")) == R"(["default","other"])");
        co_return;
      }
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    BOOST_FAIL("the node never appeared in /api/v1/nodes");
  });
}

// The dashboard's nodes view: each node's heartbeat age and the jobs it runs; its job page: each
// failed attempt's node and start.
BOOST_AUTO_TEST_CASE(nodes_count_their_running_jobs_and_errors_name_their_node) {
  api_harness h;
  h.run([&](runtime::runtime& rt, http::api& api) -> asio::awaitable<void> {
    auto sleeper = co_await create(api, R"({"kind":"sleep","payload":{"ms":60000}})");
    auto failed = co_await create(api, R"({"kind":"fail","payload":{"times":99},"max_attempts":1})");
    co_await await_state(api, sleeper, "running");
    auto dead = co_await await_state(api, failed, "dead");
    const auto& errors = dead.at("errors").as_array();
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    BOOST_TEST(errors[0].at("node").as_string() == rt.worker_id());
    const auto started = jobs::parse_rfc3339(std::string(errors[0].at("started_at").as_string()));
    const auto ended = jobs::parse_rfc3339(std::string(errors[0].at("at").as_string()));
    BOOST_REQUIRE(started);
    BOOST_REQUIRE(ended);
    BOOST_TEST((*started <= *ended));
    for (int i = 0; i < 200; ++i) {
      auto nodes = body_of(co_await call(api, "GET", "/api/v1/nodes")).at("nodes").as_array();
      if (!nodes.empty()) {
        const auto& n = nodes[0].as_object();
        BOOST_TEST(n.at("running_jobs").as_int64() == 1);
        const double age = n.at("heartbeat_age_s").as_double();
        BOOST_TEST(age >= 0.0);
        BOOST_TEST(age < rt.settings().leader_ttl_s);
        co_await call(api, "POST", "/api/v1/jobs/" + std::to_string(sleeper) + "/cancel");
        co_return;
      }
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    BOOST_FAIL("the node never appeared in /api/v1/nodes");
  });
}

BOOST_AUTO_TEST_CASE(kinds_list_the_registered_kinds_with_the_configured_policy) {
  api_harness h;
  h.settings.kinds["fail"].max_attempts = 3;
  h.settings.kinds["fail"].timeout_s = 7;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    auto r = co_await call(api, "GET", "/api/v1/kinds");
    BOOST_REQUIRE_EQUAL(r.status, 200u);
    std::map<std::string, json::object> by_name;
    const auto body = body_of(r);
    for (auto& k : body.at("kinds").as_array())
      by_name[std::string(k.at("kind").as_string())] = k.as_object();
    BOOST_REQUIRE(by_name.count("fail") == 1u);
    BOOST_REQUIRE(by_name.count("noop") == 1u);
    BOOST_TEST(by_name["fail"].at("max_attempts").as_int64() == 3);
    BOOST_TEST(by_name["fail"].at("timeout_s").to_number<double>() == 7.0);
    BOOST_TEST(by_name["noop"].at("max_attempts").as_int64() == 25);  // the registered default
    BOOST_TEST(!by_name["noop"].at("payload_checked").as_bool());
  });
}

BOOST_AUTO_TEST_CASE(periodic_lists_each_schedule_with_its_next_and_last_run) {
  api_harness h;
  config::periodic_settings beat;
  beat.name = "beat";
  beat.cron = "@every 1s";
  beat.kind = "noop";
  config::periodic_settings nightly;
  nightly.name = "nightly";
  nightly.cron = "0 3 * * *";
  nightly.timezone = "Europe/Berlin";
  nightly.kind = "noop";
  nightly.queue = "other";
  h.settings.periodic = {beat, nightly};
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    for (int i = 0; i < 1500; ++i) {
      auto r = co_await call(api, "GET", "/api/v1/periodic");
      BOOST_REQUIRE_EQUAL(r.status, 200u);
      const auto all = body_of(r).as_array();
      BOOST_REQUIRE_EQUAL(all.size(), 2u);
      const auto& b = all[0].as_object();
      const auto& n = all[1].as_object();
      BOOST_TEST(b.at("name").as_string() == "beat");
      BOOST_TEST(n.at("name").as_string() == "nightly");
      BOOST_TEST(n.at("cron").as_string() == "0 3 * * *");
      BOOST_TEST(n.at("timezone").as_string() == "Europe/Berlin");
      BOOST_TEST(n.at("queue").as_string() == "other");
      BOOST_TEST(n.at("kind").as_string() == "noop");
      // 03:00 in Berlin is 01:00 or 02:00 UTC.
      const std::string next(n.at("next_run").as_string());
      BOOST_TEST((next.substr(10, 9) == "T01:00:00" || next.substr(10, 9) == "T02:00:00"), next);
      BOOST_TEST(n.at("last_run").is_null());
      if (!b.at("last_job_id").is_null()) {  // the first tick of "beat" was enqueued
        BOOST_TEST(b.at("last_run").is_string());
        BOOST_TEST(b.at("next_run").as_string() > b.at("last_run").as_string());
        co_return;
      }
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    BOOST_FAIL("the first tick of beat never showed in /api/v1/periodic");
  });
}

BOOST_AUTO_TEST_SUITE_END()
