// Misbehaving handlers (the diagnostic kinds throw, hang, hog and block): the runtime survives
// each. A non-standard exception is a failed attempt with a clear error; a handler that never
// returns and one that allocates without bound are cancelled by the kind's timeout (and the
// memory is given back); one that blocks its io_context thread is reported by the watchdog with
// its job id, and counted in /metrics.
#define BOOST_TEST_MODULE e2e_fault_handler
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

job_id post_job(unsigned short port, const std::string& body) {
  const auto reply = http_request(port, "POST", "/api/v1/jobs", body);
  const auto job = json_body(reply);
  BOOST_REQUIRE_MESSAGE(reply.status == 201 && job,
                        "POST /api/v1/jobs " << body << ": " << describe(reply));
  return int_field(*job, "id");
}

// Under ASan, freed memory waits in a 256 MiB quarantine before it goes back to the system, so
// the runtime this test starts gets none: the hog's memory must come back when it is freed.
#if defined(__SANITIZE_ADDRESS__)  // GCC
#define SPOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)  // clang
#define SPOOL_ASAN 1
#endif
#endif
void without_asan_quarantine() {
#ifdef SPOOL_ASAN
  const char* options = std::getenv("ASAN_OPTIONS");
  const std::string more = std::string(options ? options : "") + ":quarantine_size_mb=0";
  setenv("ASAN_OPTIONS", more.c_str(), 1);
#endif
}

std::vector<std::string> error_messages(const json::object& job) {
  std::vector<std::string> out;
  for (auto& e : job.at("errors").as_array()) out.push_back(string_field(e.as_object(), "message"));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_non_standard_exception_is_a_failed_attempt_with_a_clear_error) {
  sandbox sb;
  sb.write_config(R"({"kinds": {"throw": {"retry_base_s": 0.05, "retry_cap_s": 0.1}}})");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  const auto id = post_job(port, R"({"kind": "throw", "max_attempts": 2})");
  const auto job = sb.wait_for_state(id, "dead", 30s);
  BOOST_TEST(int_field(job, "attempt") == 2);
  const std::vector<std::string> expected(
      2, "handler threw an unknown exception (not a std::exception)");
  BOOST_TEST(error_messages(job) == expected, boost::test_tools::per_element());

  // The same process goes on running jobs.
  sb.wait_for_state(post_job(port, R"({"kind": "noop"})"), "completed", 30s);
  BOOST_TEST(rt->running());
  BOOST_TEST(count_events(rt->err(), "coroutine_failed") == 0u);
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(a_handler_that_never_returns_is_cancelled_by_its_timeout) {
  sandbox sb;
  sb.write_config(R"({"kinds": {"hang": {"timeout_s": 2, "retry_base_s": 0.05,
                                         "retry_cap_s": 0.1}}})");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  const auto hung = post_job(port, R"({"kind": "hang", "max_attempts": 2})");
  sb.wait_for_state(hung, "running", 30s);
  // While it hangs, other jobs run.
  sb.wait_for_state(post_job(port, R"({"kind": "noop"})"), "completed", 30s);

  const auto job = sb.wait_for_state(hung, "dead", 30s);
  BOOST_TEST(int_field(job, "attempt") == 2);
  for (auto& message : error_messages(job))
    BOOST_TEST(message.starts_with("timed out after 2"), message);
  BOOST_TEST(error_messages(job).size() == 2u);
  BOOST_TEST(rt->running());
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(a_handler_that_allocates_without_bound_is_cancelled_and_its_memory_freed) {
  constexpr std::int64_t cap_mb = 200;
  without_asan_quarantine();
  sandbox sb;
  sb.write_config(R"({"kinds": {"hog": {"timeout_s": 3}}})");
  auto rt = sb.start_runtime("run");
  const auto port = admin_port(*rt);
  const auto baseline = resident_kib(rt->pid()).value_or(0);
  const auto id = post_job(port, R"({"kind": "hog", "max_attempts": 1, "payload": {"step_mb": 4,
                                     "cap_mb": )" +
                                     std::to_string(cap_mb) + "}}");

  // Sample the runtime's memory until the job is dead-lettered (the timeout cancelled it).
  std::int64_t peak = baseline;
  json::object job;
  wait_until(
      [&] {
        peak = std::max(peak, resident_kib(rt->pid()).value_or(0));
        job = sb.show(id);
        return string_field(job, "state") == "dead";
      },
      60s, [&] { return "the hog job was not dead-lettered: " + sb.runtimes_text(); });
  BOOST_TEST(error_messages(job) == std::vector<std::string>{"timed out after 3.000000 s"},
             boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("RSS: " << baseline / 1024 << " MiB before, " << peak / 1024
                             << " MiB at the peak");
  // It really allocated (most of) its cap, so the timeout is what stopped it...
  BOOST_TEST(peak - baseline > cap_mb * 1024 * 3 / 4,
             "peak " << peak << " KiB, baseline " << baseline << " KiB");
  // ...and the cancelled coroutine's memory goes back to the system.
  std::int64_t now = 0;
  wait_until(
      [&] {
        now = resident_kib(rt->pid()).value_or(0);
        return now - baseline < cap_mb * 1024 / 4;
      },
      20s, [&] { return "RSS stayed at " + std::to_string(now / 1024) + " MiB"; });
  sb.wait_for_state(post_job(port, R"({"kind": "noop"})"), "completed", 30s);
  BOOST_TEST(rt->running());
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(the_watchdog_names_the_job_that_blocks_an_io_thread) {
  sandbox sb;
  auto rt = sb.start_runtime("run", {"--workers", "2"});
  const auto port = admin_port(*rt);
  // A job that waits as it should (a timer) for as long, next to one that blocks its thread.
  const auto waits = post_job(port, R"({"kind": "sleep", "payload": {"ms": 3000}})");
  const auto blocks = post_job(port, R"({"kind": "block", "payload": {"ms": 3000}})");
  sb.wait_for_state(blocks, "completed", 30s);
  sb.wait_for_state(waits, "completed", 30s);

  const auto reports = events(rt->err(), "io_thread_blocked");
  BOOST_REQUIRE_MESSAGE(reports.size() == 1u,
                        reports.size() << " io_thread_blocked lines; " << sb.runtimes_text());
  BOOST_TEST(int_field(reports[0], "job_id") == blocks);
  BOOST_TEST(string_field(reports[0], "level") == "warn");
  const auto metrics = http_request(port, "GET", "/metrics");
  BOOST_REQUIRE_EQUAL(metrics.status, 200);
  BOOST_TEST(metrics.body.find("\nspool_io_thread_blocked_total 1\n") != std::string::npos,
             "no spool_io_thread_blocked_total 1 in /metrics");
  sb.stop_runtime(*rt);
}
