// Two runtimes on one database share the work and never run a job twice.
#define BOOST_TEST_MODULE e2e_two_nodes
#include <boost/test/unit_test.hpp>
#include <map>

#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/seed.hpp"

using namespace spool::e2e;

namespace {

// "3 jobs (ids 5, 9, 12)" from the ids in `counts` whose count is not 1.
std::string not_once(const std::map<job_id, int>& counts, const std::vector<long long>& ids) {
  std::size_t n = 0;
  std::string some;
  for (auto id : ids) {
    auto it = counts.find(id);
    const int c = it == counts.end() ? 0 : it->second;
    if (c == 1) continue;
    if (++n <= 5)
      some += (some.empty() ? "" : ", ") + std::to_string(id) + ": " + std::to_string(c);
  }
  return std::to_string(n) + " jobs (id: times " + some + (n > 5 ? ", ..." : "") + ")";
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_runtimes_on_one_database_complete_every_job_exactly_once) {
  constexpr int jobs = 10000;
  sandbox sb;
  const auto ids = seed_jobs(sb.db_url(), std::vector<seed_job>(jobs, seed_job{"noop"}));
  BOOST_REQUIRE_EQUAL(ids.size(), static_cast<std::size_t>(jobs));

  // Both start before either can have drained the queue (each claims at most 100 at once).
  auto a = sb.start_runtime("node-a", {"--poll", "0.2"});
  auto b = sb.start_runtime("node-b", {"--poll", "0.2"});
  wait_until(
      [&] { return sb.states()["completed"] == jobs; }, 90s,
      [&] { return "not every job completed: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  sb.stop_runtimes({a.get(), b.get()});

  for (auto& [state, n] : sb.states())
    BOOST_TEST(n == (state == "completed" ? jobs : 0), "state " << state << ": " << n);
  std::map<job_id, int> attempts;
  for (auto& j : sb.list({"--state", "completed"}))
    attempts[int_field(j, "id")] = static_cast<int>(int_field(j, "attempt"));
  BOOST_TEST(attempts.size() == static_cast<std::size_t>(jobs));
  BOOST_TEST(not_once(attempts, ids).starts_with("0 jobs"),
             "completed with an attempt other than 1: " << not_once(attempts, ids));

  // Exactly once: each job started and succeeded once over both logs, and nothing failed.
  std::map<job_id, int> started, succeeded;
  std::map<std::string, std::size_t> done_by;
  for (auto* node : {a.get(), b.get()}) {
    const auto name = node->err_path().stem().string();
    const auto log = node->err();
    for (auto& e : events(log, "job_started")) ++started[int_field(e, "job_id")];
    const auto successes = events(log, "job_succeeded");
    for (auto& e : successes) ++succeeded[int_field(e, "job_id")];
    done_by[name] = successes.size();
    for (auto event : {"job_failed", "job_rescued", "completion_rejected"})
      BOOST_TEST(count_events(log, event) == 0u,
                 name << ": " << count_events(log, event) << " " << event << " lines");
    // Lock contention between the nodes may be retried, but a node must not stay unable to write.
    BOOST_TEST_MESSAGE(name << ": " << done_by[name] << " job_succeeded, "
                            << count_events(log, "claim_failed") << " claim_failed, "
                            << count_events(log, "completion_flush_failed")
                            << " completion_flush_failed; " << error_summary(log));
  }
  BOOST_TEST(not_once(started, ids).starts_with("0 jobs"),
             "not started exactly once: " << not_once(started, ids));
  BOOST_TEST(not_once(succeeded, ids).starts_with("0 jobs"),
             "not succeeded exactly once: " << not_once(succeeded, ids));
  BOOST_TEST(done_by["node-a"] > 0u, "node-a did no work: node-b did all " << jobs << " jobs");
  BOOST_TEST(done_by["node-b"] > 0u, "node-b did no work: node-a did all " << jobs << " jobs");
}
