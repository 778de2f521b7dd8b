// The soak (scripts/soak): a mixed workload (tests/e2e/workload.hpp) posted through the admin API
// of build/spool for SPOOL_SOAK_MINUTES (default 10), with a restart every SPOOL_SOAK_RESTART_S
// (default 30): SIGTERM, and every third time kill -9. The ledger of acknowledged jobs is kept in
// this process. At the end a last run drains the queue and the report gives the jobs processed,
// lost (must be 0), duplicates and the runtime's RSS over time (must not grow after warm-up).
// Not part of ctest: it runs for minutes.
#define BOOST_TEST_MODULE e2e_soak
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "tests/e2e/admin_http.hpp"
#include "tests/e2e/sandbox.hpp"
#include "tests/e2e/workload.hpp"

using namespace spool::e2e;

namespace {

constexpr double grace_s = 2;

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtod(v, nullptr) : fallback;
}

struct rss_sample {
  double at_s;  // since the soak began
  int run;
  std::int64_t kib;
};

struct run_summary {
  int run = 0;
  bool killed = false;
  double exit_s = 0;  // SIGTERM to exit
  std::vector<std::int64_t> rss_kib;
};

// What the logs of all runs tell, accumulated run by run (the logs are not kept).
struct log_tally {
  std::map<job_id, int> successes;  // job_succeeded lines per job, over all runs
  std::size_t starts = 0, interrupted = 0, rescued = 0, rejected = 0;
  std::map<std::string, std::size_t> errors;  // level=error lines by event

  void add(const std::string& log) {
    for (auto& e : events(log)) {
      const auto event = string_field(e, "event");
      if (event == "job_started")
        ++starts;
      else if (event == "job_succeeded")
        ++successes[int_field(e, "job_id")];
      else if (event == "job_interrupted")
        ++interrupted;
      else if (event == "job_rescued")
        ++rescued;
      else if (event == "completion_rejected")
        ++rejected;
      if (auto* level = e.if_contains("level");
          level && level->is_string() && level->get_string() == "error")
        ++errors[event];
    }
  }
};

std::int64_t median(std::vector<std::int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

BOOST_AUTO_TEST_CASE(soak) {
  const double minutes = env_number("SPOOL_SOAK_MINUTES", 10);
  const auto restart_every = std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double>(env_number("SPOOL_SOAK_RESTART_S", 30)));
  const auto seed =
      static_cast<std::uint64_t>(env_number("SPOOL_E2E_SEED", std::random_device{}()));
  std::mt19937_64 rng(seed);
  std::cout << "soak: " << minutes << " min, restart every "
            << std::chrono::duration<double>(restart_every).count() << " s, seed " << seed
            << std::endl;

  sandbox sb;
  sb.write_config(R"({"lease_s": 2, "rescue_interval_s": 1, "poll_interval_s": 0.5,
                      "queues": {"default": 16},
                      "kinds": {"noop": {"retry_base_s": 0.05, "retry_cap_s": 0.5},
                                "sleep": {"retry_base_s": 0.05, "retry_cap_s": 0.5},
                                "fail": {"retry_base_s": 0.05, "retry_cap_s": 0.5}}})");
  const auto began = steady::now();
  const auto end = began + std::chrono::duration_cast<steady::duration>(
                               std::chrono::duration<double>(minutes * 60));
  ledger book;
  log_tally tally;
  std::vector<rss_sample> samples;
  std::vector<run_summary> runs;
  for (int k = 1; steady::now() < end; ++k) {
    run_summary summary{k, k % 3 == 0, 0, {}};
    auto rt = sb.start_runtime("run-" + std::to_string(k), {"--grace", "2"});
    const auto started = steady::now();
    const auto port = admin_port(*rt);
    {
      workload load(port, book, {.seed = rng(), .pause = std::chrono::milliseconds(10)});
      const auto stop_at = std::min(end, steady::now() + restart_every);
      while (steady::now() < stop_at) {
        std::this_thread::sleep_until(std::min(stop_at, steady::now() + 2s));
        const auto rss = resident_kib(rt->pid());
        BOOST_REQUIRE_MESSAGE(rss && rt->running(), "run " << k << " died: " << sb.runtimes_text());
        samples.push_back({std::chrono::duration<double>(steady::now() - began).count(), k, *rss});
        summary.rss_kib.push_back(*rss);
      }
      const auto signalled = steady::now();
      rt->signal(summary.killed ? SIGKILL : SIGTERM);
      const auto status = rt->wait_for(30s);
      summary.exit_s = std::chrono::duration<double>(steady::now() - signalled).count();
      BOOST_REQUIRE_MESSAGE(status, "run " << k << " did not stop: " << sb.runtimes_text());
      BOOST_TEST(*status == (summary.killed ? 128 + SIGKILL : 0),
                 "run " << k << ": " << describe(*status));
      if (!summary.killed)
        BOOST_TEST(summary.exit_s <= grace_s + 2,
                   "run " << k << " exited " << summary.exit_s << " s after SIGTERM");
    }
    tally.add(rt->err());
    std::filesystem::remove(sb.dir() / ("run-" + std::to_string(k) + ".err"));  // can be large
    runs.push_back(summary);
    std::cout << "run " << k << (summary.killed ? " kill -9" : " SIGTERM") << " after "
              << static_cast<int>(std::chrono::duration<double>(steady::now() - started).count())
              << " s: RSS " << (summary.rss_kib.empty() ? 0 : summary.rss_kib.back() / 1024)
              << " MiB, acknowledged so far " << book.jobs.size() << std::endl;
  }

  // A last run drains what is left.
  auto last = sb.start_runtime("run-final");
  const auto port = admin_port(*last);
  wait_until(
      [&] {
        for (auto& [state, n] : sb.states())
          if (n && state != "completed" && state != "dead" && state != "cancelled") return false;
        return true;
      },
      300s, [&] { return "the queue did not drain: " + sb.stats_text(); });

  // Lost: acknowledged but missing or not ended as its sort dictates.
  std::map<job_id, std::string> listed;  // id -> state
  std::map<job_id, std::int64_t> attempts;
  for (auto& j : sb.list()) {
    listed[int_field(j, "id")] = string_field(j, "state");
    attempts[int_field(j, "id")] = int_field(j, "attempt");
  }
  std::size_t missing = 0, wrong = 0;
  std::map<std::string, std::size_t> ends;
  for (auto& e : book.jobs) {
    auto it = listed.find(e.id);
    if (it == listed.end()) {
      if (++missing <= 10) BOOST_ERROR("acknowledged job " << e.id << " is missing");
      continue;
    }
    ++ends[it->second];
    // A completed noop or sleep on its first attempt has nothing more to check.
    if ((e.sort == job_sort::noop || e.sort == job_sort::sleep) && it->second == "completed" &&
        attempts[e.id] == 1)
      continue;
    const auto reply = http_request(port, "GET", "/api/v1/jobs/" + std::to_string(e.id));
    const auto job = json_body(reply);
    BOOST_REQUIRE_MESSAGE(reply.status == 200 && job, describe(reply));
    if (auto why = check_final(e, *job); !why.empty() && ++wrong <= 10) BOOST_ERROR(why);
  }
  sb.stop_runtime(*last);
  tally.add(last->err());

  std::size_t duplicates = 0;
  for (auto& [_, n] : tally.successes) duplicates += n > 1 ? n - 1 : 0;
  std::size_t processed = 0;
  for (auto& [_, n] : ends) processed += n;

  std::ostringstream report;
  report << "soak: " << minutes << " min, " << runs.size() << " runs ("
         << std::count_if(runs.begin(), runs.end(), [](auto& r) { return r.killed; })
         << " ended by kill -9, the rest by SIGTERM), seed " << seed << "\n";
  report << "jobs acknowledged: " << book.jobs.size()
         << " (enqueues refused while shutting down: " << book.refused
         << ", unanswered at a kill: " << book.unanswered << ")\n";
  report << "jobs processed:    " << processed << " (";
  for (auto& [state, n] : ends) report << state << " " << n << ", ";
  report << "attempts started " << tally.starts << ")\n";
  report << "lost:              " << missing + wrong << " (missing " << missing
         << ", not ended as their sort dictates " << wrong << ")\n";
  report << "duplicates:        " << duplicates
         << " (a job's success logged by more than one run: done, but killed before its commit)\n";
  report << "reruns:            " << tally.rescued << " attempts rescued after kill -9, "
         << tally.interrupted << " jobs interrupted by SIGTERM and handed back, " << tally.rejected
         << " late completions rejected\n";
  double worst_exit = 0;
  for (auto& r : runs)
    if (!r.killed) worst_exit = std::max(worst_exit, r.exit_s);
  report << "SIGTERM to exit:   at most " << worst_exit << " s (grace " << grace_s << " s)\n";
  // The exhaust and permanent jobs are dead-lettered by design, which logs at error level.
  report << "error log lines:   job_dead_lettered " << tally.errors["job_dead_lettered"]
         << " (the exhaust and permanent jobs); others:";
  std::size_t others = 0;
  for (auto& [event, n] : tally.errors)
    if (event != "job_dead_lettered") report << " " << event << " " << n, others += n;
  if (others == 0) report << " none";
  report << "\nRSS (MiB) per run, sampled every 2 s:\n" << std::fixed << std::setprecision(1);
  for (auto& r : runs) {
    report << "  run " << r.run << (r.killed ? " (kill -9):" : " (SIGTERM):");
    for (auto kib : r.rss_kib) report << " " << kib / 1024.0;
    report << "\n";
  }
  // Warm-up: the first run, and each run's first 10 s (start-up, cache filling). After it, a
  // run's RSS must not climb within the run, nor from the early runs to the late ones.
  std::vector<std::int64_t> early, late;
  std::int64_t worst_climb = 0;
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const auto& rss = runs[i].rss_kib;
    if (rss.size() < 8) continue;  // a short last run
    worst_climb = std::max(worst_climb, rss.back() - rss[4]);
    (i <= runs.size() / 2 ? early : late).push_back(rss.back());
  }
  auto mib = [](const std::vector<std::int64_t>& v) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    if (v.empty())
      s << "n/a";
    else
      s << median(v) / 1024.0 << " MiB";
    return s.str();
  };
  report << "RSS after warm-up: largest climb within a run " << worst_climb / 1024.0
         << " MiB (10 s to end); median at the end of a run " << mib(early)
         << " in the first half of the runs, " << mib(late) << " in the second\n";
  std::cout << report.str() << std::flush;
  if (const char* path = std::getenv("SPOOL_SOAK_REPORT"); path && *path)
    std::ofstream(path) << report.str();

  BOOST_TEST(missing + wrong == 0u, "jobs lost");
  BOOST_TEST(worst_climb <= 8 * 1024,
             "RSS climbed " << worst_climb / 1024.0 << " MiB within a run");
  if (!early.empty() && !late.empty())
    BOOST_TEST(median(late) <= median(early) + median(early) / 5 + 4 * 1024,
               "RSS grew from the early runs to the late ones");
}
