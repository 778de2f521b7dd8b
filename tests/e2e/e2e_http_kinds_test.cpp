// HTTP kinds through build/spool against the example application examples/http_worker/worker.py
// (Python's standard library, written from the README alone): two kinds, signed requests,
// failures that retry, a 429 with Retry-After that snoozes, answers that dead-letter a job.
#define BOOST_TEST_MODULE e2e_http_kinds
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <sstream>

#include "tests/e2e/sandbox.hpp"

using namespace spool::e2e;

namespace {

// python3 on PATH, or "" (the test then fails saying so: scripts/lib/deps.sh installs it).
std::string find_python() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / "python3";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// The worker's journal: one line per verified request, {"id","kind","attempt","status","result"}.
std::vector<json::object> journal(const std::filesystem::path& file) {
  std::vector<json::object> out;
  for (auto& line : lines(read_file(file))) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.get_object());
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_example_worker_runs_both_kinds_and_every_job_ends_as_the_contract_says) {
  const auto python = find_python();
  BOOST_TEST_REQUIRE(!python.empty(), "python3 is not on PATH (scripts/lib/deps.sh installs it)");
  sandbox sb;
  sb.extra_env = {"WORKER_SECRET=e2e-secret-1"};
  const auto journal_file = sb.dir() / "journal.jsonl";
  process worker(python,
                 {SPOOL_SOURCE_DIR "/examples/http_worker/worker.py", "--port", "0", "--journal",
                  journal_file.string()},
                 {sb.dir(), sb.dir() / "worker.out", sb.dir() / "worker.err", sb.extra_env});
  std::string port;
  wait_until(
      [&] {
        const auto out = worker.out();
        if (out.starts_with("listening on ") && out.ends_with("\n")) port = out.substr(13, out.size() - 14);
        return !port.empty() || !worker.running();
      },
      30s, [&] { return "the worker did not start: " + worker.err(); });
  BOOST_TEST_REQUIRE(!port.empty(), "the worker exited: " << worker.err());

  const std::string base = "http://127.0.0.1:" + port;
  sb.write_config(R"({"http_kinds": [
      {"kind": "embed_document", "url": ")" + base + R"(/jobs/embed", "timeout_s": 10, "secret_env": "WORKER_SECRET"},
      {"kind": "send_email", "url": ")" + base + R"(/jobs/email", "timeout_s": 10, "secret_env": "WORKER_SECRET"},
      {"kind": "unsigned_email", "url": ")" + base + R"(/jobs/email", "timeout_s": 10}],
    "kinds": {"embed_document": {"retry_base_s": 0.1, "retry_cap_s": 0.1, "retry_jitter": 0}}})");

  // The kinds are known to every command that reads the config: enqueue checks against them.
  BOOST_TEST(sb.spool_ok({"kinds"}).find("send_email") != std::string::npos);
  const auto embed_ok = sb.enqueue("embed_document", {"--payload", R"({"text":"hello"})"});
  const auto embed_flaky = sb.enqueue("embed_document", {"--payload", R"({"text":"flaky","fail_times":2})"});
  const auto embed_gone = sb.enqueue("embed_document", {"--payload", R"({"discard":true})"});
  const auto embed_spent = sb.enqueue("embed_document", {"--payload", R"({"fail_times":9})", "--max-attempts", "3"});
  const auto email = sb.enqueue("send_email", {"--payload", R"({"to":"ada@example.com"})"});
  const auto email_bad = sb.enqueue("send_email", {"--payload", R"({"subject":"no recipient"})"});
  const auto unsigned_email = sb.enqueue("unsigned_email", {"--payload", R"({"to":"eve@example.com"})"});

  auto rt = sb.start_runtime("run", {}, false);
  struct expected {
    std::int64_t id;
    const char* state;
    int attempt;
    std::size_t errors;
    const char* note;  // a substring of the final note, for dead jobs
  };
  const std::vector<expected> all{
      {embed_ok, "completed", 1, 0, ""},
      {embed_flaky, "completed", 3, 2, ""},
      {embed_gone, "dead", 1, 1, "document was deleted"},
      {embed_spent, "dead", 3, 3, "model not loaded yet"},
      // The 429 snoozed it: the attempt was given back, so it completed on attempt 1.
      {email, "completed", 1, 0, ""},
      {email_bad, "dead", 1, 1, "HTTP 400"},
      // Without a signature the worker answers 401: permanent.
      {unsigned_email, "dead", 1, 1, "bad signature"},
  };
  std::map<std::int64_t, json::object> finals;
  for (auto& e : all) {
    const auto job = finals[e.id] = sb.wait_for_state(e.id, e.state, 60s);
    BOOST_TEST(int_field(job, "attempt") == e.attempt, "job " << e.id);
    BOOST_TEST(job.at("errors").as_array().size() == e.errors, "job " << e.id);
    if (*e.note)
      BOOST_TEST(string_field(job, "note").find(e.note) != std::string::npos,
                 "job " << e.id << " note: " << string_field(job, "note"));
  }
  sb.stop_runtime(*rt, 15s);

  // What the application saw: every attempt, in order, with the results it answered.
  std::map<std::int64_t, std::vector<std::int64_t>> statuses;
  std::map<std::int64_t, json::object> results;
  std::map<std::int64_t, std::int64_t> progress_statuses;  // the worker's progress report, answered
  for (auto& r : journal(journal_file)) {
    statuses[int_field(r, "id")].push_back(int_field(r, "status"));
    if (r.contains("progress_status")) progress_statuses[int_field(r, "id")] = int_field(r, "progress_status");
    if (r.contains("result")) results[int_field(r, "id")] = r.at("result").as_object();
  }
  BOOST_TEST(statuses[embed_flaky] == (std::vector<std::int64_t>{500, 500, 200}), boost::test_tools::per_element());
  BOOST_TEST(statuses[email] == (std::vector<std::int64_t>{429, 200}), boost::test_tools::per_element());
  BOOST_TEST(statuses[embed_spent] == (std::vector<std::int64_t>{500, 500, 500}), boost::test_tools::per_element());
  BOOST_TEST(statuses.count(unsigned_email) == 0u);  // refused before it reached the journal
  // The successful embeds reported progress through the admin API with their attempt's token.
  BOOST_TEST(progress_statuses[embed_ok] == 202);
  BOOST_TEST(progress_statuses[embed_flaky] == 202);
  BOOST_TEST(results[email].at("sent_to").as_string() == "ada@example.com");
  BOOST_TEST(results[embed_ok].at("embedding").as_array().size() == 2u);
  // The JSON body of the 2xx is the job's result; a job that did not complete has none.
  BOOST_TEST(finals[email].at("result") == json::value(results[email]), json::serialize(finals[email].at("result")));
  BOOST_TEST(finals[embed_ok].at("result") == json::value(results[embed_ok]));
  BOOST_TEST(finals[embed_flaky].at("result").is_object());
  BOOST_TEST(finals[embed_spent].at("result").is_null());
  worker.signal(SIGTERM);
  worker.wait_for(10s);
}

BOOST_AUTO_TEST_CASE(a_kind_whose_secret_variable_is_missing_stops_spool_run_at_start) {
  sandbox sb;
  sb.write_config(R"({"http_kinds": [{"kind": "k", "url": "http://127.0.0.1:9/x", "secret_env": "NOT_SET_ANYWHERE"}]})");
  auto r = sb.spool({"run", "--log-format", "json"}, 30s);
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.err.find("http_kinds[0].secret_env: environment variable NOT_SET_ANYWHERE is not set") !=
                 std::string::npos,
             r.err);
}
