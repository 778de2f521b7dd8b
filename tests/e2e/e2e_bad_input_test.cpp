// Bad input and an unusable database: `spool` exits 2 for what the user typed wrong and 1 for what
// failed, each time with one clear line on stderr; a job of an unknown kind fails into the DLQ.
#define BOOST_TEST_MODULE e2e_bad_input
#include <sqlite3.h>

#include <boost/json/parse.hpp>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

// Requires exit status `status` and exactly one line on stderr that contains every `needle`
// (a command line CLI11 cannot parse also gets the command's usage line and where help is).
void expect_one_line_error(const result& r, int status, const std::vector<std::string>& needles) {
  BOOST_TEST(r.status == status,
             "exit status " << r.status << ", expected " << status << "; stderr: " << r.err);
  auto err_lines = lines(r.err);
  std::erase_if(err_lines, [](const std::string& l) {
    return l.starts_with("Usage: spool") || l.starts_with("(see spool");
  });
  BOOST_TEST(err_lines.size() == 1u, "expected one line on stderr, got " << err_lines.size()
                                                                         << ":\n"
                                                                         << r.err);
  for (auto& n : needles)
    BOOST_TEST(r.err.find(n) != std::string::npos, "stderr lacks '" << n << "': " << r.err);
  BOOST_TEST(r.out.empty(), "stdout: " << r.out);
}

// A refused command may not even have created the database; the read-only `jobs list` needs one.
std::size_t job_count(sandbox& sb) {
  sb.spool_ok({"migrate"});
  return sb.list().size();
}

// Holds SQLite's write lock on a database, as another writer in the middle of a transaction does.
class write_lock {
 public:
  explicit write_lock(const std::filesystem::path& db) {
    BOOST_REQUIRE(sqlite3_open(db.c_str(), &db_) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, &err);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, "BEGIN EXCLUSIVE failed: " << (err ? err : "?"));
  }
  ~write_lock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  write_lock(const write_lock&) = delete;
  write_lock& operator=(const write_lock&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

BOOST_AUTO_TEST_CASE(an_invalid_json_payload_is_a_usage_error) {
  sandbox sb;
  expect_one_line_error(sb.spool({"enqueue", "noop", "--payload", "{bad"}), 2, {"payload", "JSON"});
  expect_one_line_error(sb.spool({"enqueue", "noop", "--payload", "[1, 2]"}), 2,
                        {"payload must be a JSON object"});
  BOOST_TEST(job_count(sb) == 0u);
}

BOOST_AUTO_TEST_CASE(a_command_line_that_does_not_parse_shows_the_usage_of_its_command) {
  sandbox sb;
  const auto r = sb.spool({"jobs", "show", "abc"});
  BOOST_TEST(r.status == 2);
  const auto err = lines(r.err);
  BOOST_REQUIRE_EQUAL(err.size(), 3u);
  BOOST_TEST(err[0].find("abc") != std::string::npos, err[0]);
  BOOST_TEST(err[1] == "Usage: spool jobs show [OPTIONS] id");
  BOOST_TEST(err[2] == "(see spool jobs show --help)");
}

BOOST_AUTO_TEST_CASE(a_missing_kind_is_a_usage_error) {
  sandbox sb;
  expect_one_line_error(sb.spool({"enqueue"}), 2, {"kind"});
  BOOST_TEST(job_count(sb) == 0u);
}

BOOST_AUTO_TEST_CASE(a_non_numeric_priority_is_a_usage_error) {
  sandbox sb;
  expect_one_line_error(sb.spool({"enqueue", "noop", "--priority", "abc"}), 2,
                        {"--priority", "abc"});
  BOOST_TEST(job_count(sb) == 0u);
}

BOOST_AUTO_TEST_CASE(an_unknown_flag_is_a_usage_error) {
  sandbox sb;
  expect_one_line_error(sb.spool({"enqueue", "noop", "--bogus"}), 2, {"--bogus"});
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds", "--bogus-flag"}), 2,
                        {"--bogus-flag"});
  BOOST_TEST(job_count(sb) == 0u);
}

BOOST_AUTO_TEST_CASE(an_unknown_config_key_is_a_usage_error_naming_the_key) {
  sandbox sb;
  sb.write_config(R"({"workers": 1, "bogus_key": true})");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2,
                        {"bogus_key", "unknown key"});
  sb.write_config(R"({"kinds": {"fail": {"retry_bse_s": 1}}})");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2,
                        {"kinds.fail.retry_bse_s", "unknown key"});
}

BOOST_AUTO_TEST_CASE(a_job_of_an_unknown_kind_fails_into_the_dead_letter_queue) {
  // `noop` is a kind of the binary, so enqueue takes it; this runtime runs without the diagnostic
  // kinds, as a node of a rolling deploy might.
  sandbox sb;
  const auto id = sb.enqueue("noop", {"--max-attempts", "2"});
  auto rt = sb.start_runtime("run", {}, false);
  const auto job = sb.wait_for_state(id, "dead", 15s);
  sb.stop_runtime(*rt, 5s);
  BOOST_TEST(int_field(job, "attempt") == 2);
  const auto& errors = job.at("errors").as_array();
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  for (auto& e : errors)
    BOOST_TEST(
        string_field(e.as_object(), "message").find("no handler for kind") != std::string::npos,
        "error message: " << string_field(e.as_object(), "message"));
  BOOST_TEST(count_events(rt->err(), "job_dead_lettered") == 1u);
  // jobs list --json carries the error history too, and the paging cursor.
  const auto listed = boost::json::parse(sb.spool_ok({"jobs", "list", "--json", "--limit", "1"}));
  BOOST_TEST(listed.at("jobs").at(0).at("errors").as_array().size() == 2u);
  BOOST_TEST(listed.at("next_cursor").as_int64() == id);
}

BOOST_AUTO_TEST_CASE(enqueue_refuses_a_kind_no_live_node_runs) {
  sandbox sb;
  // A node without the diagnostic kinds: noop is a kind of the binary, but nothing running runs it.
  auto rt = sb.start_runtime("run", {}, false);
  BOOST_TEST_INFO(sb.runtimes_text());
  // Its first heartbeat publishes its kinds; until then there is no live node to ask (and before
  // it has migrated the database, `spool nodes` says so and exits 1).
  const auto deadline = steady::now() + 15s;
  while (sb.spool({"nodes", "--json"}).out.find("activity_processing") == std::string::npos) {
    BOOST_REQUIRE_MESSAGE(steady::now() < deadline, "the node never published its kinds");
    std::this_thread::sleep_for(50ms);
  }
  const auto table = sb.spool_ok({"nodes"});
  BOOST_TEST(table.find("KINDS") != std::string::npos, table);
  BOOST_TEST(table.find("activity_processing") != std::string::npos, table);
  expect_one_line_error(sb.spool({"enqueue", "noop"}), 1,
                        {"kind 'noop' is run by no live node", "activity_processing", "--force"});
  BOOST_TEST(job_count(sb) == 0u);
  sb.enqueue("noop", {"--force", "--max-attempts", "1"});
  BOOST_TEST(job_count(sb) == 1u);
  sb.stop_runtime(*rt);
}

BOOST_AUTO_TEST_CASE(enqueue_refuses_what_would_never_run) {
  sandbox sb;
  expect_one_line_error(sb.spool({"enqueue", "noop", "--queue", "other"}), 2,
                        {"queue 'other' is not configured", "configured: default"});
  expect_one_line_error(sb.spool({"enqueue", "noop", "--max-attempts", "0"}), 2, {"1..1000"});
  expect_one_line_error(sb.spool({"enqueue", "noop", "--max-attempts", "5000"}), 2, {"1..1000"});
  expect_one_line_error(sb.spool({"enqueue", "nosuchkind"}), 2,
                        {"kind 'nosuchkind' is not registered", "activity_processing", "noop"});
  expect_one_line_error(
      sb.spool({"enqueue", "activity_processing", "--payload", R"({"user_id":"ada"})"}), 2,
      {"payload field 'activity_id'"});
  BOOST_TEST(job_count(sb) == 0u);
  // A configured queue is accepted.
  sb.write_config(R"({"queues": {"default": 2, "other": 1}})");
  sb.enqueue("noop", {"--queue", "other", "--max-attempts", "1000"});
  BOOST_TEST(job_count(sb) == 1u);
}

BOOST_AUTO_TEST_CASE(config_errors_name_where_the_value_came_from) {
  sandbox sb;
  sb.write_config(R"({"queues": {"default": 0}})");
  const auto file = sb.spool({"run", "--diagnostic-kinds"}, 10s);
  expect_one_line_error(file, 2, {"config file ", "config.json, key queues.default", "1..100000"});
  BOOST_TEST(file.err.find("config: config:") == std::string::npos, file.err);
  sb.write_config(R"({"workers": 1,})");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2, {"invalid JSON at line 1, column"});
  sb.write_config(R"({"kinds": {"fail": {"retries": 3}}})");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2,
                        {"kinds.fail.retries", "unknown key", "known: retry_base_s"});
  sb.write_config(R"({"kinds": {"nosuchkind": {"max_attempts": 3}}})");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2,
                        {"kinds.nosuchkind", "registered: ", "noop"});
  sb.write_config("{}");
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds", "--http", "nonsense"}, 10s), 2,
                        {"flag --http", "nonsense"});
  sb.extra_env = {"SPOOL_QUEUES=default=lots"};
  expect_one_line_error(sb.spool({"run", "--diagnostic-kinds"}, 10s), 2,
                        {"environment variable SPOOL_QUEUES", "lots"});
}

BOOST_AUTO_TEST_CASE(a_bad_state_lists_the_states) {
  sandbox sb;
  expect_one_line_error(sb.spool({"jobs", "list", "--state", "bogus"}), 2,
                        {"'bogus'", "scheduled", "dead"});
}

BOOST_AUTO_TEST_CASE(jobs_retry_and_show_name_the_limit) {
  sandbox sb;
  const auto id = sb.enqueue("noop", {"--delay", "3600"});
  BOOST_TEST(string_field(sb.show(id), "state") == "scheduled");
  BOOST_TEST(sb.spool_ok({"jobs", "retry", std::to_string(id)}) ==
             "job " + std::to_string(id) + " is due now\n");
  BOOST_TEST(string_field(sb.show(id), "state") == "available");
  const auto shown = sb.spool_ok({"jobs", "show", std::to_string(id)});
  BOOST_TEST(shown.find("attempt:      0 of 25\n") != std::string::npos, shown);
  sb.write_config(R"({"kinds": {"noop": {"max_attempts": 7}}})");
  const auto configured = sb.spool_ok({"jobs", "show", std::to_string(id)});
  BOOST_TEST(configured.find("attempt:      0 of 7\n") != std::string::npos, configured);
}

BOOST_AUTO_TEST_CASE(a_database_that_cannot_be_opened_is_a_failure_naming_it) {
  sandbox sb;
  const std::string url = "sqlite:/nonexistent/dir/x.db";
  expect_one_line_error(sb.raw({"--db", url, "enqueue", "noop"}), 1,
                        {"/nonexistent/dir/x.db", "cannot open database"});
  expect_one_line_error(sb.raw({"--db", url, "stats"}), 1, {"/nonexistent/dir/x.db"});
  // The runtime must fail at start-up, not run without a database.
  expect_one_line_error(sb.raw({"--db", url, "run", "--diagnostic-kinds"}, 10s), 1,
                        {"/nonexistent/dir/x.db"});
}

BOOST_AUTO_TEST_CASE(enqueue_into_a_locked_database_fails_after_the_busy_timeout) {
  sandbox sb;
  sb.spool_ok({"migrate"});
  {
    write_lock lock(sb.db_path());
    const auto start = steady::now();
    const auto r = sb.spool({"enqueue", "noop"}, 30s);
    const auto waited = std::chrono::duration<double>(steady::now() - start).count();
    BOOST_TEST_MESSAGE("enqueue gave up after " << waited << " s");
    expect_one_line_error(r, 1, {"locked"});
    BOOST_TEST(waited >= 4.5,
               "enqueue gave up after " << waited << " s, before the 5 s busy timeout");
    BOOST_TEST(waited <= 15.0, "enqueue waited " << waited << " s for the lock");
  }
  // Once the other writer is done the database works as before.
  sb.enqueue("noop");
  BOOST_TEST(job_count(sb) == 1u);
}

BOOST_AUTO_TEST_CASE(log_level_debug_shows_rounds_and_wake_ups) {
  sandbox sb;
  auto rt = sb.start_runtime("run", {"--log-level", "debug"});
  const auto id = sb.enqueue("noop");
  sb.wait_for_state(id, "completed", 15s);
  sb.stop_runtime(*rt, 5s);
  BOOST_TEST(count_events(rt->err(), "round") >= 1u, rt->err());
  auto quiet = sb.start_runtime("quiet");
  sb.wait_for_state(sb.enqueue("noop"), "completed", 15s);
  sb.stop_runtime(*quiet, 5s);
  BOOST_TEST(count_events(quiet->err(), "round") == 0u);
}
