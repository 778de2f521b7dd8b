// Crash recovery: a runtime killed with SIGKILL (or one that aborts inside a job) loses no job.
// Jobs whose lease expires come back as a failed attempt; only those in flight at a crash run
// again, and a job that keeps killing its worker ends in the dead-letter queue.
#define BOOST_TEST_MODULE e2e_crash
#include <sys/resource.h>

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <fstream>
#include <iterator>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/seed.hpp"

using namespace spool::e2e;

namespace {

constexpr std::string_view worker_lost = "worker lost (lease expired)";

// The abort kind must not leave core files behind.
struct no_core_dumps {
  no_core_dumps() {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(no_core_dumps);

// The job_started lines of one run: job id -> attempts, in log order.
std::map<job_id, std::vector<std::int64_t>> starts_of(const std::string& log) {
  std::map<job_id, std::vector<std::int64_t>> starts;
  for (auto& e : events(log, "job_started"))
    starts[int_field(e, "job_id")].push_back(int_field(e, "attempt"));
  return starts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_five_times_loses_no_job_and_reruns_only_jobs_in_flight) {
  constexpr int jobs = 5000, concurrency = 50, kills = 5;
  const auto seed = test_seed();
  BOOST_TEST_MESSAGE("seed " << seed << " (set SPOOL_E2E_SEED to replay)");
  std::mt19937_64 rng(seed);

  sandbox sb;
  // Short leases and fast retries bring the jobs of a killed runtime back within ~2 s.
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.5, "poll_interval_s": 0.2,
                      "queues": {"default": )" +
                  std::to_string(concurrency) + R"(},
                      "kinds": {"noop": {"retry_base_s": 0.05, "retry_cap_s": 0.2},
                                "sleep": {"retry_base_s": 0.05, "retry_cap_s": 0.2}}})");
  std::vector<seed_job> batch;
  for (int i = 0; i < jobs; ++i)
    batch.push_back(i % 3 == 0
                        ? seed_job{"noop"}
                        : seed_job{"sleep", R"({"ms": )" + std::to_string(1 + rng() % 20) + "}"});
  const auto ids = seed_jobs(sb.db_url(), batch);
  BOOST_REQUIRE_EQUAL(ids.size(), static_cast<std::size_t>(jobs));

  // Each run is killed once it has finished a random number of jobs, with others in flight.
  std::vector<std::string> logs;
  for (int k = 1; k <= kills; ++k) {
    const auto threshold = 50 + rng() % 350;
    auto rt = sb.start_runtime("run-" + std::to_string(k));
    wait_until(
        [&] {
          const auto log = rt->err();
          const auto done = count_events(log, "job_succeeded");
          return done >= threshold && count_events(log, "job_started") > done;
        },
        30s,
        [&] {
          return "run " + std::to_string(k) + " did not reach " + std::to_string(threshold) +
                 " finished jobs with more in flight: " + sb.stats_text() + "\n" +
                 sb.runtimes_text();
        });
    rt->signal(SIGKILL);
    const auto status = rt->wait_for(5s);
    BOOST_REQUIRE(status);
    BOOST_REQUIRE_EQUAL(*status, 128 + SIGKILL);
    logs.push_back(rt->err());
    BOOST_TEST_MESSAGE("run " << k << " killed after " << count_events(logs.back(), "job_succeeded")
                              << " successes, " << count_events(logs.back(), "job_started")
                              << " starts");
  }
  BOOST_TEST_REQUIRE(sb.states()["completed"] < jobs,
                     "the runs finished every job before the kills");

  auto last = sb.start_runtime("run-final");
  wait_until(
      [&] { return sb.states()["completed"] == jobs; }, 90s,
      [&] { return "not every job completed: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  sb.stop_runtime(*last);
  logs.push_back(last->err());

  // No job was lost: every job is completed, nothing is left in any other state.
  for (auto& [state, n] : sb.states())
    BOOST_TEST(n == (state == "completed" ? jobs : 0), "state " << state << ": " << n);
  std::map<job_id, std::int64_t> attempt;
  for (auto& j : sb.list({"--state", "completed"}))
    attempt[int_field(j, "id")] = int_field(j, "attempt");
  BOOST_REQUIRE_EQUAL(attempt.size(), static_cast<std::size_t>(jobs));

  // Per job: started at most once per run, attempts increasing over the runs, and every start
  // except the last one was cut short by a kill (all runs but the last were killed).
  std::vector<std::map<job_id, std::vector<std::int64_t>>> runs;
  std::vector<std::set<job_id>> succeeded_in(logs.size());
  for (std::size_t r = 0; r < logs.size(); ++r) {
    runs.push_back(starts_of(logs[r]));
    for (auto& e : events(logs[r], "job_succeeded")) succeeded_in[r].insert(int_field(e, "job_id"));
  }
  std::size_t extra_starts = 0;
  std::set<job_id> rerun;
  std::vector<std::size_t> cut_short(runs.size());  // per run: its starts that were not the last
  std::vector<std::size_t> redone(runs.size());  // of those, jobs the run had logged as succeeded
  for (auto id : ids) {
    std::vector<std::int64_t> seen;
    std::optional<std::size_t> previous_run;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      auto it = runs[r].find(id);
      if (it == runs[r].end()) continue;
      BOOST_TEST(it->second.size() == 1u,
                 "job " << id << " started " << it->second.size() << " times in run " << r + 1);
      seen.insert(seen.end(), it->second.begin(), it->second.end());
      if (previous_run) {
        ++cut_short[*previous_run];
        if (succeeded_in[*previous_run].count(id)) ++redone[*previous_run];
      }
      previous_run = r;
    }
    BOOST_TEST_REQUIRE(!seen.empty(), "job " << id << " never started");
    for (std::size_t i = 1; i < seen.size(); ++i)
      BOOST_TEST(seen[i] > seen[i - 1], "job " << id << " restarted without a higher attempt");
    BOOST_TEST(seen.back() == attempt[id], "job " << id << " completed as attempt " << attempt[id]
                                                  << " but its last start was attempt "
                                                  << seen.back());
    extra_starts += seen.size() - 1;
    if (attempt[id] > 1) rerun.insert(id);
  }
  BOOST_TEST_MESSAGE(extra_starts << " extra starts, " << rerun.size() << " jobs rerun");
  // A killed runtime ran at most `concurrency` jobs at once, so at most that many of its starts
  // may be repeated after the kill.
  for (std::size_t r = 0; r < runs.size(); ++r) {
    BOOST_TEST_MESSAGE("run " << r + 1 << ": " << cut_short[r] << " starts repeated later, "
                              << redone[r] << " of them of jobs it had logged as succeeded");
    BOOST_TEST(cut_short[r] <= static_cast<std::size_t>(r + 1 < runs.size() ? concurrency : 0),
               "run " << r + 1 << " (queue concurrency " << concurrency << "): " << cut_short[r]
                      << " of its jobs ran again after the kill, " << redone[r]
                      << " of which it had already logged as job_succeeded");
  }
  constexpr auto bound = static_cast<std::size_t>(concurrency * kills);
  BOOST_TEST(extra_starts <= bound, extra_starts
                                        << " repeated starts over " << kills
                                        << " kills, more than concurrency x kills = " << bound);
  BOOST_TEST(rerun.size() <= bound, rerun.size()
                                        << " jobs needed more than one attempt over " << kills
                                        << " kills, more than concurrency x kills = " << bound);

  // A job that ran again did so because its worker was lost, and for no other reason. (Its
  // attempt may exceed its starts by a claim that was committed but not yet logged at a kill.)
  for (auto id : rerun) {
    const auto job = sb.show(id);
    const auto& errors = job.at("errors").as_array();
    BOOST_TEST(static_cast<std::int64_t>(errors.size()) == attempt[id] - 1, "job " << id);
    for (auto& e : errors)
      BOOST_TEST(string_field(e.as_object(), "message") == worker_lost, "job " << id);
  }
}

BOOST_AUTO_TEST_CASE(a_job_that_aborts_the_process_is_dead_lettered_after_max_attempts) {
  sandbox sb;
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.3,
                      "kinds": {"abort": {"retry_base_s": 0.05, "retry_cap_s": 0.1}}})");
  const auto id = sb.enqueue("abort", {"--max-attempts", "3"});

  for (int death = 1; death <= 3; ++death) {
    auto rt = sb.start_runtime("run-" + std::to_string(death));
    const auto status = rt->wait_for(15s);
    BOOST_REQUIRE_MESSAGE(
        status, "run " << death << " did not die on the abort job: " << sb.stats_text() << "\n"
                       << sb.runtimes_text());
    BOOST_REQUIRE_MESSAGE(*status == 128 + SIGABRT, "run " << death << ": " << describe(*status));
    const auto log = rt->err();
    const auto started = events(log, "job_started");
    BOOST_REQUIRE_EQUAL(started.size(), 1u);
    BOOST_TEST(int_field(started[0], "attempt") == death);
    // From the second run on, the attempt the previous process died in is rescued first.
    const auto rescued = events(log, "job_rescued");
    BOOST_REQUIRE_EQUAL(rescued.size(), death == 1 ? 0u : 1u);
    if (death > 1) {
      BOOST_TEST(int_field(rescued[0], "attempt") == death - 1);
      BOOST_TEST(string_field(rescued[0], "next") == "retry");
    }
  }

  auto last = sb.start_runtime("run-4");
  const auto job = sb.wait_for_state(id, "dead", 15s);
  sb.stop_runtime(*last, 5s);
  const auto log = last->err();
  BOOST_TEST(count_events(log, "job_started") == 0u);
  const auto rescued = events(log, "job_rescued");
  BOOST_REQUIRE_EQUAL(rescued.size(), 1u);
  BOOST_TEST(int_field(rescued[0], "attempt") == 3);
  BOOST_TEST(string_field(rescued[0], "next") == "dead");

  BOOST_TEST(int_field(job, "attempt") == 3);
  const auto& errors = job.at("errors").as_array();
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(int_field(errors[i].as_object(), "attempt") == i + 1);
    BOOST_TEST(string_field(errors[i].as_object(), "message") == worker_lost);
  }
  const auto dlq = sb.spool_ok({"dlq", "list", "--json"});
  BOOST_TEST(dlq.find("\"id\":" + std::to_string(id) + ",") != std::string::npos,
             "dlq list: " << dlq);
}

// Follow-ups commit with their job's success (#19): a runtime killed after the handler ended but
// before the success was committed leaves no follow-up behind, and the rerun enqueues it once.
// The window is held open by another connection's write lock on the SQLite file.
BOOST_AUTO_TEST_CASE(a_kill_between_handler_end_and_commit_leaves_each_follow_up_once) {
  sandbox sb;
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.5, "poll_interval_s": 0.2,
                      "kinds": {"chain": {"retry_base_s": 0.05, "retry_cap_s": 0.2}}})");
  auto first = sb.start_runtime("run-1");
  const auto id = sb.enqueue("chain", {"--payload", R"({"count": 2, "ms": 1500})"});
  wait_until([&] { return count_events(first->err(), "job_started") == 1; }, 15s,
             [&] { return "the chain job did not start\n" + sb.runtimes_text(); });

  // While the handler sleeps, another connection (the sqlite3 shell, Debian package sqlite3)
  // takes the write lock and keeps it.
  spawn_options lock_opts{.cwd = sb.dir(), .stdout_path = sb.dir() / "lock.out",
                          .stderr_path = sb.dir() / "lock.err", .env = {}};
  process lock("/usr/bin/sqlite3", {sb.db_path().string(), ".timeout 10000", "BEGIN IMMEDIATE;",
                           ".shell echo locked; sleep 120"},
               lock_opts);
  auto file_text = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  wait_until([&] { return file_text(sb.dir() / "lock.out").find("locked") != std::string::npos; }, 15s,
             [&] { return "sqlite3 did not take the write lock: " + file_text(sb.dir() / "lock.err"); });
  // The handler ends and its success waits for the lock: kill the runtime there.
  wait_until([&] { return count_events(first->err(), "job_succeeded") == 1; }, 15s,
             [&] { return "the chain job did not end\n" + sb.runtimes_text(); });
  first->signal(SIGKILL);
  BOOST_REQUIRE(first->wait_for(5s));
  lock.signal(SIGKILL);
  BOOST_REQUIRE(lock.wait_for(5s));
  BOOST_TEST(sb.list({"--kind", "noop"}).empty(), "a follow-up exists before its job's success");
  BOOST_TEST(string_field(sb.show(id), "state") == "running");

  // The next runtime rescues the job (its lease ran out), runs it again and commits it with its
  // two follow-ups, which run too.
  auto second = sb.start_runtime("run-2");
  sb.wait_for_state(id, "completed", 30s);
  wait_until([&] { return sb.list({"--kind", "noop", "--state", "completed"}).size() >= 2; }, 15s,
             [&] { return "the follow-ups did not complete: " + sb.stats_text(); });
  sb.stop_runtime(*second);
  std::multiset<std::string> follow_ups;
  for (auto& j : sb.list({"--kind", "noop"})) follow_ups.insert(json::serialize(j.at("payload")));
  const auto parent = std::to_string(id);
  BOOST_TEST(follow_ups == (std::multiset<std::string>{R"({"parent":)" + parent + R"(,"n":0})",
                                                       R"({"parent":)" + parent + R"(,"n":1})"}));
  BOOST_TEST(int_field(sb.show(id), "attempt") == 2);
}
