// Counts and retention through the real binary, on SQLite and (with SPOOL_TEST_PG) PostgreSQL:
// - kill -9 mid-run, three times: the counts the store keeps (job_counts) equal a scan of the
//   state tables after each kill (every move of a job and its count commit together);
// - a runtime with retention 0 prunes every finished job: the counts stay exact, the pruned
//   jobs answer 404 / exit 1 saying they may have been pruned, and /metrics counts them.
#define BOOST_TEST_MODULE e2e_retention
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <random>
#include <thread>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/seed.hpp"
#include "tests/support/count_oracle.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool::e2e;
namespace test = spool::test;

namespace {

void counts_agree(const std::string& url, const std::string& when) {
  const auto stored = test::stored_counts(url);
  const auto scanned = test::scanned_counts(url);
  BOOST_TEST((stored == scanned), when << ": job_counts says " << test::describe(stored)
                                       << ", the tables hold " << test::describe(scanned));
}

void kill_then_prune(sandbox& sb) {
  sb.write_config(R"({"lease_s": 1, "rescue_interval_s": 0.5, "poll_interval_s": 0.2,
                      "queues": {"default": 20},
                      "kinds": {"fail": {"retry_base_s": 0.05, "retry_cap_s": 0.2}}})");
  std::vector<seed_job> jobs;
  for (int i = 0; i < 1500; ++i) {
    if (i % 10 == 3) jobs.push_back({"fail", R"({"times": 1})"});
    else if (i % 10 == 7) jobs.push_back({"fail", R"({"permanent": true})"});
    else jobs.push_back({"sleep", R"({"ms": 5})"});
  }
  const auto ids = seed_jobs(sb.db_url(), jobs);
  counts_agree(sb.db_url(), "after seeding");

  std::mt19937_64 rng(std::random_device{}());
  for (int k = 1; k <= 3; ++k) {
    auto rt = sb.start_runtime("run-" + std::to_string(k));
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    BOOST_REQUIRE_MESSAGE(rt->running(), "run " << k << " ended before its kill: " << sb.runtimes_text());
    rt->signal(SIGKILL);
    BOOST_REQUIRE(rt->wait_for(5s));
    counts_agree(sb.db_url(), "after kill -9 number " + std::to_string(k));
  }

  auto rt = sb.start_runtime("prune", {"--retention-completed", "0", "--retention-cancelled", "0",
                                       "--retention-dead", "0", "--prune-interval", "0.2"});
  const auto port = admin_port(*rt);
  wait_until(
      [&] {
        std::int64_t total = 0;
        for (auto& [_, n] : sb.states()) total += n;
        return total == 0;
      },
      90s, [&] { return "jobs are left: " + sb.stats_text() + "\n" + sb.runtimes_text(); });
  const auto id = std::to_string(ids.front());
  const auto got = http_request(port, "GET", "/api/v1/jobs/" + id);
  BOOST_TEST(got.status == 404, describe(got));
  BOOST_TEST(got.body.find("pruned") != std::string::npos, got.body);
  const auto metrics = http_request(port, "GET", "/metrics");
  BOOST_TEST(metrics.body.find("spool_jobs_pruned_total{state=\"completed\"}") != std::string::npos);
  BOOST_TEST(metrics.body.find("spool_jobs_pruned_total{state=\"completed\"} 0") == std::string::npos,
             "the pruner deleted no completed job");
  sb.stop_runtime(*rt);
  counts_agree(sb.db_url(), "after pruning");
  BOOST_TEST(test::stored_counts(sb.db_url()).empty());

  const auto shown = sb.spool({"jobs", "show", id});
  BOOST_TEST(shown.status == 1);
  BOOST_TEST(shown.err.find("not found (it may have been pruned") != std::string::npos, shown.err);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sqlite_counts_exact_after_kill_9_and_after_pruning) {
  sandbox sb;
  kill_then_prune(sb);
}

BOOST_AUTO_TEST_CASE(postgresql_counts_exact_after_kill_9_and_after_pruning) {
  const char* pg = std::getenv("SPOOL_TEST_PG");
  if (!pg || !*pg) {
    BOOST_TEST_MESSAGE("skipped: SPOOL_TEST_PG is not set");
    return;
  }
  test::scratch_db db(true);
  sandbox sb;
  sb.use_db(db.url());
  kill_then_prune(sb);
}
