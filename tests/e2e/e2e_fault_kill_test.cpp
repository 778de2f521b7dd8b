// Signals under a mixed workload posted through the admin API (tests/e2e/workload.hpp keeps the
// ledger of acknowledged jobs in this process).
// - kill -9 at random moments, 20 times, then a last run: every acknowledged job ends as its
//   sort dictates (completed, dead-lettered or cancelled), and only jobs in flight at a kill ran
//   again.
// - A cancel requested while the job ran, by another process, survives a kill -9 that comes
//   before the runtime acted on it: the rescue cancels the job instead of running it again.
// - SIGTERM under load: the runtime exits 0 within grace + 2 s, no acknowledged job is lost and
//   no attempt is consumed (interrupted jobs are back in the queue as they were).
#define BOOST_TEST_MODULE e2e_fault_kill
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/seed.hpp"
#include "tests/e2e/workload.hpp"

using namespace spool::e2e;

namespace {

constexpr std::string_view worker_lost = "worker lost (lease expired)";

// GET /api/v1/jobs/ID from a running runtime.
json::object fetch(unsigned short port, job_id id) {
  const auto reply = http_request(port, "GET", "/api/v1/jobs/" + std::to_string(id));
  const auto job = json_body(reply);
  BOOST_REQUIRE_MESSAGE(reply.status == 200 && job, "GET job " << id << ": " << describe(reply));
  return *job;
}

bool only_final_states(const std::map<std::string, std::int64_t>& states) {
  for (auto& [state, n] : states)
    if (n != 0 && state != "completed" && state != "dead" && state != "cancelled") return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kill_9_twenty_times_under_a_mixed_workload) {
  constexpr int cycles = 20, concurrency = 20;
  const auto seed = test_seed();
  BOOST_TEST_MESSAGE("seed " << seed << " (set SPOOL_E2E_SEED to replay)");
  std::mt19937_64 rng(seed);

  sandbox sb;
  // Short leases and fast retries bring the jobs of a killed runtime back within ~2 s.
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.5, "poll_interval_s": 0.2,
                      "queues": {"default": )" +
                  std::to_string(concurrency) + R"(},
                      "kinds": {"noop": {"retry_base_s": 0.05, "retry_cap_s": 0.2},
                                "sleep": {"retry_base_s": 0.05, "retry_cap_s": 0.2},
                                "fail": {"retry_base_s": 0.05, "retry_cap_s": 0.2}}})");
  ledger book;
  std::vector<std::string> logs;
  for (int k = 1; k <= cycles; ++k) {
    auto rt = sb.start_runtime("run-" + std::to_string(k));
    const auto port = admin_port(*rt);
    workload load(port, book, {.seed = rng()});
    // A random moment: anything from mid-start-up work to a long backlog.
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1300));
    BOOST_REQUIRE_MESSAGE(rt->running(),
                          "run " << k << " ended before its kill: " << sb.runtimes_text());
    rt->signal(SIGKILL);
    const auto status = rt->wait_for(5s);
    BOOST_REQUIRE(status);
    BOOST_REQUIRE_EQUAL(*status, 128 + SIGKILL);
    load.stop();
    logs.push_back(rt->err());
  }
  BOOST_TEST_MESSAGE(book.jobs.size() << " jobs acknowledged over " << cycles << " runs, "
                                      << book.unanswered << " enqueues unanswered at a kill");
  BOOST_TEST_REQUIRE(!only_final_states(sb.states()), "the kills found no work in flight");

  auto last = sb.start_runtime("run-final");
  const auto port = admin_port(*last);
  wait_until([&] { return only_final_states(sb.states()); }, 90s,
             [&] {
               return "jobs are still waiting or running: " + sb.stats_text() + "\n" +
                      sb.runtimes_text();
             });

  // Every acknowledged job ended as its sort dictates.
  std::map<job_id, json::object> finals;
  std::size_t wrong = 0;
  for (auto& entry : book.jobs) {
    auto job = fetch(port, entry.id);
    if (auto why = check_final(entry, job); !why.empty() && ++wrong <= 20) BOOST_ERROR(why);
    finals.emplace(entry.id, std::move(job));
  }
  BOOST_TEST(wrong == 0u, wrong << " acknowledged jobs did not end as their sort dictates");
  sb.stop_runtime(*last);
  logs.push_back(last->err());

  // Jobs the database holds beyond the acknowledged ones can only come from unanswered enqueues.
  std::int64_t total = 0;
  for (auto& [_, n] : sb.states()) total += n;
  BOOST_TEST(total >= static_cast<std::int64_t>(book.jobs.size()));
  BOOST_TEST(total <= static_cast<std::int64_t>(book.jobs.size() + book.unanswered));

  // Reruns: an attempt ended by "worker lost" must have started in a killed run (or been claimed
  // but not yet logged when the kill came); per killed run, at most `concurrency` of them.
  std::vector<std::map<job_id, std::set<std::int64_t>>> starts(
      logs.size());  // run -> job -> attempts
  for (std::size_t r = 0; r < logs.size(); ++r)
    for (auto& e : events(logs[r], "job_started")) {
      const bool fresh = starts[r][int_field(e, "job_id")].insert(int_field(e, "attempt")).second;
      BOOST_TEST(fresh, "run " << r + 1 << " started attempt " << int_field(e, "attempt")
                               << " of job " << int_field(e, "job_id") << " twice");
    }
  std::vector<std::size_t> lost_in(logs.size());
  std::size_t lost = 0, unlogged = 0;
  for (auto& [id, job] : finals) {
    for (auto& err : job.at("errors").as_array()) {
      if (string_field(err.as_object(), "message") != worker_lost) continue;
      ++lost;
      const auto attempt = int_field(err.as_object(), "attempt");
      std::optional<std::size_t> run;
      for (std::size_t r = 0; r < logs.size(); ++r)
        if (auto it = starts[r].find(id); it != starts[r].end() && it->second.count(attempt))
          run = r;
      if (!run) {
        ++unlogged;
        continue;
      }
      BOOST_TEST(*run + 1 < logs.size(), "job " << id << " attempt " << attempt
                                                << " lost its worker in the last run, which "
                                                   "was not killed");
      ++lost_in[*run];
    }
  }
  for (std::size_t r = 0; r + 1 < logs.size(); ++r)
    BOOST_TEST(lost_in[r] <= static_cast<std::size_t>(concurrency),
               "run " << r + 1 << ": " << lost_in[r] << " attempts lost to its kill, more than the "
                      << concurrency << " it could run at once");
  BOOST_TEST(lost <= static_cast<std::size_t>(concurrency * cycles));
  BOOST_TEST_MESSAGE(lost << " attempts lost to kills (" << unlogged
                          << " claimed but not yet logged), over " << cycles << " kills");
}

BOOST_AUTO_TEST_CASE(sigterm_under_load_loses_nothing_consumes_no_attempt_within_grace_plus_2_s) {
  constexpr int concurrency = 32;
  constexpr double grace_s = 2;
  const auto seed = test_seed();
  std::mt19937_64 rng(seed);
  sandbox sb;
  sb.write_config(R"({"poll_interval_s": 0.2, "queues": {"default": )" +
                  std::to_string(concurrency) + "}}");
  // A backlog of short jobs, and some long ones that are sure to outlive the grace period.
  std::vector<seed_job> batch;
  for (int i = 0; i < 3000; ++i)
    batch.push_back(i % 100 == 0 ? seed_job{"sleep", R"({"ms": 8000})"}
                    : i % 3 == 0
                        ? seed_job{"noop"}
                        : seed_job{"sleep", R"({"ms": )" + std::to_string(10 + rng() % 90) + "}"});
  const auto seeded = seed_jobs(sb.db_url(), batch);

  auto rt = sb.start_runtime("run", {"--grace", "2"});
  const auto port = admin_port(*rt);
  ledger book;
  workload load(port, book, {.seed = rng(), .failures = false});
  wait_until([&] { return count_events(rt->err(), "job_succeeded") >= 300; }, 60s,
             [&] { return "the runtime did not get going: " + sb.runtimes_text(); });

  const auto signalled = steady::now();
  rt->signal(SIGTERM);
  const auto status = rt->wait_for(
      std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(grace_s + 2)));
  const auto took = std::chrono::duration<double>(steady::now() - signalled).count();
  BOOST_TEST_MESSAGE("exit " << took << " s after SIGTERM (grace " << grace_s << " s)");
  BOOST_REQUIRE_MESSAGE(status, "the runtime still ran " << grace_s + 2 << " s after SIGTERM");
  BOOST_REQUIRE_MESSAGE(*status == 0, "the runtime ended with " << describe(*status));
  load.stop();
  const auto log = rt->err();
  BOOST_TEST(count_events(log, "shutdown_complete") == 1u);
  BOOST_TEST(count_events(log, "job_failed") == 0u);
  const auto interrupted = events(log, "job_interrupted");
  BOOST_TEST(interrupted.size() >= 1u, "no job was in flight past the grace period");
  BOOST_TEST_MESSAGE(count_events(log, "job_succeeded")
                     << " jobs finished, " << interrupted.size() << " interrupted; "
                     << book.jobs.size() << " enqueued through the API during the run, "
                     << book.refused << " refused while shutting down");

  // Nothing lost: every seeded and acknowledged job is there, finished or waiting untouched.
  std::set<job_id> expected(seeded.begin(), seeded.end());
  for (auto& e : book.jobs) expected.insert(e.id);
  std::set<job_id> present;
  for (auto& j : sb.list()) {
    const auto id = int_field(j, "id");
    present.insert(id);
    const auto state = string_field(j, "state");
    if (state == "completed") {
      BOOST_TEST(int_field(j, "attempt") == 1, "job " << id);
    } else {
      BOOST_TEST(state == "available", "job " << id);
      BOOST_TEST(int_field(j, "attempt") == 0, "job " << id << " lost an attempt");
    }
  }
  std::vector<job_id> missing;
  std::set_difference(expected.begin(), expected.end(), present.begin(), present.end(),
                      std::back_inserter(missing));
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged jobs are missing");
  // The interrupted ones carry no error either.
  for (auto& e : interrupted) {
    const auto job = sb.show(int_field(e, "job_id"));
    BOOST_TEST(string_field(job, "state") == "available");
    BOOST_TEST(int_field(job, "attempt") == 0);
    BOOST_TEST(job.at("errors").as_array().empty(), "job " << int_field(e, "job_id"));
  }
}

BOOST_AUTO_TEST_CASE(a_cancel_requested_before_a_kill_9_is_honoured_after_it) {
  sandbox sb;
  // A slow poll keeps the runtime's cancel watcher from seeing the request before the kill.
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.3, "poll_interval_s": 60})");
  auto first = sb.start_runtime("run-1");
  const auto reply = http_request(admin_port(*first), "POST", "/api/v1/jobs",
                                  R"({"kind": "sleep", "payload": {"ms": 120000}})");
  const auto posted = json_body(reply);
  BOOST_REQUIRE_MESSAGE(reply.status == 201 && posted, describe(reply));
  const auto id = int_field(*posted, "id");
  sb.wait_for_state(id, "running", 30s);
  const auto answer = sb.spool_ok({"jobs", "cancel", std::to_string(id)});
  BOOST_REQUIRE_EQUAL(answer, "job " + std::to_string(id) + " is running: cancel requested\n");
  first->signal(SIGKILL);
  BOOST_REQUIRE(first->wait_for(5s));

  auto second = sb.start_runtime("run-2");
  const auto job = sb.wait_for_state(id, "cancelled", 30s);
  sb.stop_runtime(*second);
  BOOST_TEST(int_field(job, "attempt") == 1);
  BOOST_TEST(job.at("errors").as_array().empty());
  BOOST_TEST(count_events(second->err(), "job_started") == 0u, "the cancelled job ran again");
  const auto rescued = events(second->err(), "job_rescued");
  BOOST_REQUIRE_EQUAL(rescued.size(), 1u);
  BOOST_TEST(string_field(rescued[0], "next") == "cancelled");
}
