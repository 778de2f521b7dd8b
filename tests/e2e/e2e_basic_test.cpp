// The job life cycle as an operator sees it through build/spool: a job runs, jobs run in order,
// failures retry on the configured backoff, and exhausted jobs land in the dead-letter queue.
#define BOOST_TEST_MODULE e2e_basic
#include <boost/json/parse.hpp>
#include <map>
#include <thread>
#include <boost/test/unit_test.hpp>

#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;
using std::chrono::system_clock;

namespace {

std::vector<job_id> started_ids(const std::string& log) {
  std::vector<job_id> ids;
  for (auto& e : events(log, "job_started")) ids.push_back(int_field(e, "job_id"));
  return ids;
}

std::vector<std::int64_t> started_attempts(const std::string& log, job_id id) {
  std::vector<std::int64_t> attempts;
  for (auto& e : events(log, "job_started"))
    if (int_field(e, "job_id") == id) attempts.push_back(int_field(e, "attempt"));
  return attempts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(spool_kinds_lists_the_kinds_with_their_configured_policy) {
  sandbox sb;
  sb.write_config(R"({"kinds": {"fail": {"max_attempts": 4, "max_snoozes": 7}}})");
  boost::system::error_code ec;
  const auto v = boost::json::parse(sb.spool_ok({"kinds", "--json"}), ec);
  BOOST_REQUIRE(!ec);
  std::map<std::string, boost::json::object> by_name;
  for (auto& k : v.at("kinds").as_array()) by_name[std::string(k.at("kind").as_string())] = k.as_object();
  BOOST_TEST(by_name.at("fail").at("max_attempts").as_int64() == 4);
  BOOST_TEST(by_name.at("fail").at("max_snoozes").as_int64() == 7);
  BOOST_TEST(by_name.at("noop").at("max_snoozes").as_int64() == 100);
  BOOST_TEST(by_name.at("noop").at("max_snooze_total_s").to_number<double>() == 86400);
  BOOST_TEST(by_name.at("activity_processing").at("payload_checked").as_bool());
  BOOST_TEST(sb.spool_ok({"kinds"}).find("profile_generation") != std::string::npos);
}

// Issue 20: `spool queues` on a database no runtime uses yet: a pause is stored and listed (a
// queue with no jobs and no node too), resumed, and a bad name is a usage error.
BOOST_AUTO_TEST_CASE(spool_queues_pauses_lists_and_resumes_queues_in_the_database) {
  sandbox sb;
  sb.write_config(R"({"queues": {"default": 10, "mail": 2}, "poll_interval_s": 0.2})");
  const auto id = sb.enqueue("noop", {"--queue", "mail"});
  BOOST_TEST(sb.spool_ok({"queues", "pause", "mail"}).find("queue mail paused") != std::string::npos);
  sb.spool_ok({"queues", "pause", "reports"});
  auto doc = boost::json::parse(sb.spool_ok({"queues", "list", "--json"}));
  std::map<std::string, boost::json::object> by_name;
  for (auto& q : doc.at("queues").as_array()) by_name[std::string(q.at("name").as_string())] = q.as_object();
  BOOST_REQUIRE_EQUAL(by_name.size(), 2u);
  BOOST_TEST(by_name.at("mail").at("paused").as_bool());
  BOOST_TEST(by_name.at("mail").at("counts").at("available").as_int64() == 1);
  BOOST_TEST(by_name.at("mail").at("served_by").as_int64() == 0);
  BOOST_TEST(by_name.at("reports").at("paused").as_bool());
  const auto table = sb.spool_ok({"queues", "list"});
  BOOST_TEST(table.find("PAUSED") != std::string::npos, table);

  // A runtime serving the queue claims nothing from it until it is resumed.
  auto rt = sb.start_runtime("run");
  wait_until([&] { return count_events(rt->err(), "queue_paused") == 1; }, 10s, "the runtime did not read the pause");
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(string_field(sb.show(id), "state") == "available");
  sb.spool_ok({"queues", "resume", "mail"});
  sb.wait_for_state(id, "completed", 5s);
  sb.stop_runtime(*rt, 5s);

  doc = boost::json::parse(sb.spool_ok({"queues", "list", "--json"}));
  for (auto& q : doc.at("queues").as_array())
    BOOST_TEST(q.at("paused").as_bool() == (q.at("name").as_string() == "reports"));
  const auto bad = sb.spool({"queues", "pause", "no such queue"});
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.err.find("is not a queue name") != std::string::npos, bad.err);
}

// spool enqueue --depends-on: the dependant waits (pending) and runs after its parents; an
// unknown parent is a usage error that stores nothing.
BOOST_AUTO_TEST_CASE(a_job_enqueued_with_depends_on_runs_after_its_parents) {
  sandbox sb;
  const auto a = sb.enqueue("noop"), b = sb.enqueue("noop");
  const auto join = sb.enqueue("noop", {"--depends-on", std::to_string(a), "--depends-on", std::to_string(b)});
  const auto shown = sb.show(join);
  BOOST_TEST(string_field(shown, "state") == "pending");
  BOOST_TEST(shown.at("depends_on").as_array().size() == 2u);
  BOOST_TEST(sb.spool_ok({"jobs", "show", std::to_string(join)}).find("state:        pending") != std::string::npos);
  const auto unknown = sb.spool({"enqueue", "noop", "--depends-on", "999999"});
  BOOST_TEST(unknown.status == 2);
  BOOST_TEST(unknown.err.find("999999") != std::string::npos, unknown.err);
  auto rt = sb.start_runtime("run");
  const auto done = sb.wait_for_state(join, "completed", 10s);
  for (auto parent : {a, b})
    BOOST_TEST(time_us(done.at("attempted_at")) >= time_us(sb.show(parent).at("finalized_at")));
  sb.stop_runtime(*rt, 5s);
}

BOOST_AUTO_TEST_CASE(a_noop_job_completes_and_sigterm_stops_the_runtime) {
  sandbox sb;
  const auto id = sb.enqueue("noop");
  BOOST_TEST(string_field(sb.show(id), "state") == "available");

  auto rt = sb.start_runtime("run");
  const auto job = sb.wait_for_state(id, "completed", 10s);
  BOOST_TEST(int_field(job, "attempt") == 1);
  BOOST_TEST(job.at("errors").as_array().empty());
  BOOST_TEST(time_us(job.at("finalized_at")) >= time_us(job.at("attempted_at")));

  sb.stop_runtime(*rt, 5s);
  const auto log = rt->err();
  BOOST_TEST(count_events(log, "job_succeeded") == 1u);
  BOOST_TEST(count_events(log, "shutdown_complete") == 1u);
}

BOOST_AUTO_TEST_CASE(a_job_enqueued_by_another_process_while_the_runtime_runs_is_started) {
  sandbox sb;
  const auto first = sb.enqueue("noop");
  auto rt = sb.start_runtime("run", {"--poll", "0.2"});
  sb.wait_for_state(first, "completed", 10s);

  // The runtime has claimed and completed a job; now another process writes to the database.
  const auto second = sb.enqueue("noop");
  std::string state;
  const bool ran = poll_until(
      [&] { return (state = string_field(sb.show(second), "state")) == "completed"; }, 5s);
  BOOST_TEST_REQUIRE(
      ran, "job " << second << " enqueued while the runtime ran is still " << state
                  << " after 5 s (poll interval 0.2 s); runtime: " << error_summary(rt->err()));
  sb.stop_runtime(*rt, 5s);
}

BOOST_AUTO_TEST_CASE(jobs_start_by_priority_then_run_at_then_id) {
  sandbox sb;
  // Ids follow the enqueue order below; every run_at is in the past, so all are due at once.
  const auto t0 = system_clock::now() - 60s;
  auto at = [&](std::chrono::seconds s) { return rfc3339(t0 + s); };
  const auto a = sb.enqueue("noop", {"--priority", "5", "--run-at", at(50s)});
  const auto b = sb.enqueue("noop", {"--priority", "1", "--run-at", at(55s)});
  const auto c = sb.enqueue("noop", {"--priority", "1", "--run-at", at(52s)});
  const auto d = sb.enqueue("noop", {"--priority", "1", "--run-at", at(52s)});
  const auto e = sb.enqueue("noop", {"--priority", "0", "--run-at", at(59s)});
  const auto f = sb.enqueue("noop", {"--priority", "5", "--run-at", at(40s)});

  auto rt = sb.start_runtime("run", {"--queue", "default=1"});
  wait_until(
      [&] { return sb.states()["completed"] == 6; }, 15s,
      [&] { return "6 jobs did not complete: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  sb.stop_runtime(*rt, 5s);
  const std::vector<job_id> expected{e, c, d, b, f, a};
  BOOST_TEST(started_ids(rt->err()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_delayed_job_starts_within_50_ms_after_its_run_at) {
  sandbox sb;
  const auto id = sb.enqueue("noop", {"--delay", "2"});
  const auto waiting = sb.show(id);
  BOOST_TEST(string_field(waiting, "state") == "scheduled");
  const auto run_at = time_us(waiting.at("run_at"));

  // The poll interval is longer than the delay: only waking up at run_at starts the job in time.
  auto rt = sb.start_runtime("run", {"--poll", "5"});
  const auto job = sb.wait_for_state(id, "completed", 10s);
  sb.stop_runtime(*rt, 5s);
  const auto log = rt->err();
  const auto started = events(log, "runtime_started");
  BOOST_REQUIRE_EQUAL(started.size(), 1u);
  BOOST_TEST_REQUIRE(time_us(started[0].at("ts")) < run_at,
                     "the runtime was not up before the job was due; the test proves nothing");

  const auto attempted_at = time_us(job.at("attempted_at"));
  BOOST_TEST_MESSAGE("the delayed job started " << (attempted_at - run_at) / 1000.0
                                                << " ms after its run_at");
  BOOST_TEST(attempted_at >= run_at, "the delayed job started before its run_at");
  BOOST_TEST(attempted_at - run_at <= 50'000, "the delayed job started "
                                                  << (attempted_at - run_at) / 1000.0
                                                  << " ms after its run_at (limit 50 ms)");
  const auto job_started = events(log, "job_started");
  BOOST_REQUIRE_EQUAL(job_started.size(), 1u);
  BOOST_TEST(time_us(job_started[0].at("ts")) >= run_at);
}

BOOST_AUTO_TEST_CASE(a_failing_job_retries_on_the_configured_backoff_and_then_succeeds) {
  sandbox sb;
  constexpr double base_s = 0.3, jitter = 0.2;
  constexpr std::int64_t slack_us = 250'000;  // claim latency on a busy 2-core machine
  sb.write_config(
      R"({"kinds": {"fail": {"retry_base_s": 0.3, "retry_cap_s": 10, "retry_jitter": 0.2}}})");
  const auto id = sb.enqueue("fail", {"--payload", R"({"times": 2})"});
  auto rt = sb.start_runtime("run");
  const auto job = sb.wait_for_state(id, "completed", 15s);
  sb.stop_runtime(*rt, 5s);

  BOOST_TEST(int_field(job, "attempt") == 3);
  const auto& errors = job.at("errors").as_array();
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    BOOST_TEST(int_field(errors[i].as_object(), "attempt") == i + 1);
    BOOST_TEST(string_field(errors[i].as_object(), "message") ==
               "diagnostic failure " + std::to_string(i + 1) + " of 2");
  }

  // The delay drawn after failed attempt n is base * 2^(n-1) scaled by [1 - jitter, 1 + jitter];
  // the next attempt starts once that delay has passed, plus some latency.
  const std::int64_t failed_at[] = {time_us(errors[0].at("at")), time_us(errors[1].at("at"))};
  const std::int64_t next_started[] = {failed_at[1], time_us(job.at("attempted_at"))};
  for (int n = 1; n <= 2; ++n) {
    const double nominal_us = base_s * (1 << (n - 1)) * 1e6;
    const auto low = static_cast<std::int64_t>(nominal_us * (1 - jitter));
    const auto high = static_cast<std::int64_t>(nominal_us * (1 + jitter)) + slack_us;
    const auto gap = next_started[n - 1] - failed_at[n - 1];
    BOOST_TEST_MESSAGE("gap after failed attempt " << n << ": " << gap / 1000.0 << " ms");
    BOOST_TEST(gap >= low, "attempt " << n + 1 << " started " << gap / 1000.0
                                      << " ms after the failure, before the backoff of at least "
                                      << low / 1000.0 << " ms");
    BOOST_TEST(gap <= high, "attempt " << n + 1 << " started " << gap / 1000.0
                                       << " ms after the failure, later than " << high / 1000.0
                                       << " ms");
  }

  // The delays the runtime chose, as it logged them, lie in the band.
  const auto failures = events(rt->err(), "job_failed");
  BOOST_REQUIRE_EQUAL(failures.size(), 2u);
  for (int n = 1; n <= 2; ++n) {
    const auto chosen_us = time_us(failures[n - 1].at("next_run_at")) - failed_at[n - 1];
    const double nominal_us = base_s * (1 << (n - 1)) * 1e6;
    BOOST_TEST(chosen_us >= nominal_us * (1 - jitter) - 1000);
    BOOST_TEST(chosen_us <= nominal_us * (1 + jitter) + 1000);
  }
}

BOOST_AUTO_TEST_CASE(an_exhausted_job_is_dead_lettered_requeued_from_attempt_1_and_purged) {
  sandbox sb;
  sb.write_config(R"({"kinds": {"fail": {"retry_base_s": 0.05, "retry_cap_s": 0.2}}})");
  const auto id = sb.enqueue("fail", {"--payload", R"({"times": 99})", "--max-attempts", "3"});
  auto first = sb.start_runtime("run-1");
  sb.wait_for_state(id, "dead", 15s);
  sb.stop_runtime(*first, 5s);
  BOOST_TEST(started_attempts(first->err(), id) == (std::vector<std::int64_t>{1, 2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(count_events(first->err(), "job_dead_lettered") == 1u);

  auto in_dlq = [&]() -> std::optional<boost::json::object> {
    auto listed = boost::json::parse(sb.spool_ok({"dlq", "list", "--json"}));
    for (auto& j : listed.at("jobs").as_array())
      if (int_field(j.as_object(), "id") == id) return j.as_object();
    return std::nullopt;
  };
  const auto dead = in_dlq();
  BOOST_REQUIRE_MESSAGE(dead, "dlq list --json does not contain job " << id);
  BOOST_TEST(string_field(*dead, "state") == "dead");
  BOOST_TEST(int_field(*dead, "attempt") == 3);
  const auto job = sb.show(id);
  const auto& errors = job.at("errors").as_array();
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  for (int i = 0; i < 3; ++i) BOOST_TEST(int_field(errors[i].as_object(), "attempt") == i + 1);

  BOOST_TEST(sb.spool_ok({"dlq", "requeue", std::to_string(id)}) == "requeued 1 job\n");
  const auto requeued = sb.show(id);
  BOOST_TEST(string_field(requeued, "state") == "available");
  BOOST_TEST(int_field(requeued, "attempt") == 0);
  BOOST_TEST(!in_dlq());

  auto second = sb.start_runtime("run-2");
  sb.wait_for_state(id, "dead", 15s);
  sb.stop_runtime(*second, 5s);
  BOOST_TEST(started_attempts(second->err(), id) == (std::vector<std::int64_t>{1, 2, 3}),
             boost::test_tools::per_element());

  BOOST_TEST(sb.spool_ok({"dlq", "purge", std::to_string(id)}) == "purged 1 job\n");
  const auto gone = sb.spool({"jobs", "show", std::to_string(id), "--json"});
  BOOST_TEST(gone.status == 1);
  BOOST_TEST(gone.err == "spool: job " + std::to_string(id) + " not found (it may have been pruned after its retention)\n");
  BOOST_TEST(!in_dlq());
}
