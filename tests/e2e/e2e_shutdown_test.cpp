// Graceful shutdown: on SIGTERM the runtime stops claiming, gives in-flight jobs --grace seconds,
// then cancels them and hands them back to the queue as if they had never been claimed.
#define BOOST_TEST_MODULE e2e_shutdown
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <set>

#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

constexpr int job_count = 50;

// Every job is back in the queue, untouched: available, attempt 0, no error recorded.
void expect_all_returned(sandbox& sb, const std::vector<job_id>& ids) {
  const auto listed = sb.list();
  BOOST_REQUIRE_EQUAL(listed.size(), ids.size());
  for (auto& j : listed) {
    BOOST_TEST(string_field(j, "state") == "available", "job " << int_field(j, "id"));
    BOOST_TEST(int_field(j, "attempt") == 0, "job " << int_field(j, "id"));
  }
  for (auto id : ids) BOOST_TEST(sb.show(id).at("errors").as_array().empty(), "job " << id);
}

// SIGTERM with every job in flight; the runtime must be gone within 3 s with status 0.
void interrupt(sandbox& sb, process& rt) {
  wait_until(
      [&] { return sb.states()["running"] == job_count; }, 15s,
      [&] { return "not all jobs are running: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  const auto start = steady::now();
  rt.signal(SIGTERM);
  const auto status = rt.wait_for(3s);
  const auto took = std::chrono::duration<double>(steady::now() - start).count();
  BOOST_TEST_MESSAGE("shutdown took " << took << " s");
  BOOST_REQUIRE_MESSAGE(status, "the runtime still ran 3 s after SIGTERM with --grace 1");
  BOOST_REQUIRE_MESSAGE(*status == 0, "the runtime ended with " << describe(*status));
  const auto log = rt.err();
  BOOST_TEST(count_events(log, "job_interrupted") == static_cast<std::size_t>(job_count));
  BOOST_TEST(count_events(log, "shutdown_complete") == 1u);
  BOOST_TEST(count_events(log, "job_failed") == 0u);
  BOOST_TEST(count_events(log, "job_succeeded") == 0u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_returns_jobs_still_running_after_the_grace_period_to_the_queue) {
  sandbox sb;
  std::vector<job_id> ids;
  for (int i = 0; i < job_count; ++i)
    ids.push_back(sb.enqueue("sleep", {"--payload", R"({"ms": 10000})"}));
  const std::vector<std::string> args{"--queue", "default=64", "--grace", "1"};

  auto first = sb.start_runtime("run-1", args);
  interrupt(sb, *first);
  expect_all_returned(sb, ids);

  // The next run starts every job again as its first attempt.
  auto second = sb.start_runtime("run-2", args);
  interrupt(sb, *second);
  std::set<job_id> restarted;
  for (auto& e : events(second->err(), "job_started")) {
    BOOST_TEST(int_field(e, "attempt") == 1, "job " << int_field(e, "job_id"));
    restarted.insert(int_field(e, "job_id"));
  }
  BOOST_TEST(restarted == std::set<job_id>(ids.begin(), ids.end()));
  expect_all_returned(sb, ids);
}
