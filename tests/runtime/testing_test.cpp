// The testing helpers an application uses (<spool/testing.hpp>), through the public API only:
// what was enqueued, drain() running due jobs and the jobs they enqueue, and what it leaves.
#define BOOST_TEST_MODULE testing_helpers
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <spool/testing.hpp>

namespace {
namespace asio = boost::asio;
using spool::jobs::job_context;
using spool::jobs::outcome;

spool::jobs::registry app_kinds() {
  spool::jobs::registry kinds;
  // Signing up sends a welcome mail: a follow-up job, enqueued by the job.
  kinds.add("sign_up", [](job_context& job) -> asio::awaitable<outcome> {
    const std::string user(job.payload().at("user").as_string());
    job.enqueue({.kind = "welcome", .payload = R"({"user":")" + user + "\"}"});
    co_return outcome::success();
  });
  kinds.add("welcome", [](job_context&) -> asio::awaitable<outcome> { co_return outcome::success(); });
  kinds.add("flaky", [](job_context&) -> asio::awaitable<outcome> {
    co_return outcome::error("mail server down");
  });
  return kinds;
}
}  // namespace

BOOST_AUTO_TEST_CASE(drain_runs_due_jobs_and_their_follow_ups) {
  spool::testing::test_runtime t(app_kinds());
  t.enqueue({{.kind = "sign_up", .payload = R"({"user":"ada"})"}});
  auto enqueued = t.jobs("sign_up");
  BOOST_REQUIRE(enqueued.size() == 1u);
  BOOST_TEST(enqueued[0].state == "available");
  BOOST_TEST(enqueued[0].payload == R"({"user":"ada"})");
  BOOST_TEST(t.jobs("welcome").empty());

  BOOST_TEST(t.drain() == 2u);  // sign_up, then the welcome it enqueued

  BOOST_TEST(t.jobs("sign_up")[0].state == "completed");
  auto welcome = t.jobs("welcome");
  BOOST_REQUIRE(welcome.size() == 1u);
  BOOST_TEST(welcome[0].state == "completed");
  BOOST_TEST(welcome[0].payload == R"({"user":"ada"})");
  BOOST_TEST(t.jobs().size() == 2u);
}

BOOST_AUTO_TEST_CASE(drain_leaves_retries_and_scheduled_jobs_waiting) {
  spool::testing::test_runtime t(app_kinds());
  t.enqueue({{.kind = "flaky"},
             {.kind = "welcome", .run_at = spool::jobs::now() + std::chrono::hours(1)}});
  BOOST_TEST(t.drain() == 1u);
  auto flaky = t.jobs("flaky");
  BOOST_REQUIRE(flaky.size() == 1u);
  BOOST_TEST(flaky[0].state == "retrying");
  BOOST_TEST(flaky[0].attempt == 1);
  BOOST_TEST(flaky[0].last_error == "mail server down");
  BOOST_TEST(t.jobs("welcome")[0].state == "scheduled");
  BOOST_TEST(t.drain() == 0u);  // nothing is due
}
