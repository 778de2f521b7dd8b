#define BOOST_TEST_MODULE http_metrics_promtool
// /metrics, fetched over HTTP after jobs ran, passes `promtool check metrics` (Debian package
// prometheus). SPOOL_PROMTOOL is the path CMake found, or empty. The monitoring files shipped in
// docs/monitoring name only metrics the page exports.
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/http/live_server.hpp"

using namespace spool;
using namespace spool::test;

namespace {

struct command_result {
  int status = -1;
  std::string output;
};

command_result run_command(const std::string& command) {
  command_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe, "cannot run " << command);
  char chunk[4096];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) r.output.append(chunk, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string fetch_metrics(unsigned short port) {
  client c(port);
  auto r = c.request("GET", "/metrics");
  BOOST_REQUIRE_MESSAGE(r, "GET /metrics: " << c.last_error().message());
  BOOST_REQUIRE_EQUAL(r->result_int(), 200u);
  BOOST_TEST((*r)[bhttp::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  return r->body();
}

void await_state(unsigned short port, std::int64_t id, const std::string& state) {
  eventually([&] { return job_state(port, id) == state; }, 10s,
             "job " + std::to_string(id) + " never became " + state);
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_pass_promtool_check) {
  const std::string promtool = SPOOL_PROMTOOL;
  if (promtool.empty()) {
    const char* ci = std::getenv("CI");
    BOOST_REQUIRE_MESSAGE(!(ci && std::string(ci) == "true"),
                          "promtool was not found when CMake configured the build; install Debian package "
                          "'prometheus' (scripts/test does) and reconfigure");
    std::cout << "SKIPPED: promtool not found at configure time (install Debian package prometheus)\n";
    return;
  }
  live_server s;
  // Jobs of several kinds and outcomes, so that every family has samples.
  std::vector<std::int64_t> done;
  for (int i = 0; i < 5; ++i) done.push_back(create_job(s.port(), R"({"kind":"noop"})"));
  auto dead = create_job(s.port(), R"({"kind":"fail","payload":{"times":99},"max_attempts":1})");
  auto cancelled = create_job(s.port(), R"({"kind":"sleep","payload":{"ms":60000}})");
  create_job(s.port(), R"({"kind":"noop","delay_s":3600})");
  for (auto id : done) await_state(s.port(), id, "completed");
  await_state(s.port(), dead, "dead");
  await_state(s.port(), cancelled, "running");
  {
    client c(s.port());
    auto r = c.request("POST", "/api/v1/jobs/" + std::to_string(cancelled) + "/cancel");
    BOOST_REQUIRE(r && r->result_int() == 202);
  }
  await_state(s.port(), cancelled, "cancelled");

  const auto page = fetch_metrics(s.port());
  BOOST_TEST(page.find(R"(spool_jobs_finished_total{queue="default",kind="noop",outcome="succeeded"} 5)") !=
             std::string::npos);
  temp_dir dir;
  const auto file = dir.path / "metrics.txt";
  std::ofstream(file) << page;
  auto r = run_command(promtool + " check metrics < " + file.string());
  BOOST_TEST_MESSAGE("promtool: exit " << r.status << "\n" << r.output);
  BOOST_TEST(r.status == 0, "promtool check metrics failed:\n" << r.output);
  BOOST_TEST(r.output.empty(), "promtool reported problems:\n" << r.output);

  // The check must be able to fail: a page with a problem is reported.
  std::ofstream(file) << "# TYPE broken counter\nbroken{le=\"x\" 1\n";
  auto bad = run_command(promtool + " check metrics < " + file.string());
  BOOST_TEST(bad.status != 0, "promtool accepted a malformed page:\n" << bad.output);
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Metric names a PromQL text uses: spool_* and process_*, histograms' series by family name.
std::set<std::string> metric_names(const std::string& text) {
  static const std::regex name(R"(\b(spool|process)_[a-z_]+)");
  static const std::regex suffix("_(bucket|sum|count)$");
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it)
    names.insert(std::regex_replace(it->str(), suffix, ""));
  return names;
}

}  // namespace

BOOST_AUTO_TEST_CASE(monitoring_files_use_only_exported_metrics) {
  live_server s;
  auto id = create_job(s.port(), R"({"kind":"noop"})");
  await_state(s.port(), id, "completed");
  std::string page;
  eventually([&] { return (page = fetch_metrics(s.port())).find("\nspool_leader 1\n") != std::string::npos; },
             10s, "the node never led");
  const std::string dir = SPOOL_SOURCE_DIR "/docs/monitoring/";
  const auto dashboard = boost::json::parse(read_file(dir + "grafana-dashboard.json"));
  std::string exprs;
  for (auto& panel : dashboard.at("panels").as_array())
    for (auto& target : panel.at("targets").as_array()) exprs += std::string(target.at("expr").as_string()) + "\n";
  // The rules without their comments, which name families by wildcard (spool_queue_*).
  const auto alerts = std::regex_replace(read_file(dir + "alerts.yml"), std::regex("#[^\n]*"), "");
  const std::string* texts[] = {&exprs, &alerts};
  for (auto* text : texts) {
    const auto names = metric_names(*text);
    BOOST_TEST(names.size() >= 4u);
    for (auto& n : names)
      BOOST_TEST(page.find("# TYPE " + n + " ") != std::string::npos, n << " is not on the /metrics page");
  }
  // The README's table names every family on the page.
  const auto readme = read_file(SPOOL_SOURCE_DIR "/README.md");
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("# TYPE ")) {
      const auto family = line.substr(7, line.find(' ', 7) - 7);
      BOOST_TEST(readme.find("`" + family + "`") != std::string::npos, family << " is not in the README's table");
    }
  // The check can fail: a name the page does not export is found.
  BOOST_TEST(metric_names("rate(spool_no_such_total[5m])").count("spool_no_such_total") == 1u);
}
