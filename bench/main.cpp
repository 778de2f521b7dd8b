// spool-bench WORKLOAD [--db URL] [--jobs N] [--concurrency C] [--runs R] [--json]
// Prints one table row per workload (median and min-max of R runs), or one JSON object per run.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/object.hpp>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "bench/workloads.hpp"

namespace fs = std::filesystem;
using namespace spool::bench;

namespace {

struct scratch {  // a fresh database location for one run
  fs::path dir;
  scratch() {
    std::string tmpl = (fs::temp_directory_path() / "spool-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Spool benchmark harness", "spool-bench"};
  options o;
  std::string names;
  for (auto& w : all_workloads()) names += "\n  " + w.name + " (" + std::to_string(w.default_jobs) + "): " + w.what;
  app.add_option("workload", o.workload, "One of:" + names)->required();
  std::string db;
  auto* o_db = app.add_option("--db", db,
                              "sqlite:PATH or postgresql://USER@HOST:PORT/DB (emptied before every "
                              "run: its public schema is dropped; default a temp SQLite file)");
  std::string durability = "full";
  app.add_option("--enqueue-durability", durability, "full (default) or relaxed")
      ->check(CLI::IsMember({"full", "relaxed"}));
  app.add_option("--jobs", o.jobs, "Jobs per run (workload default)");
  app.add_option("--concurrency", o.concurrency, "Queue concurrency (100)");
  app.add_option("--batch", o.batch, "store-ceiling: jobs per round (1000)")->check(CLI::Range(1, 1000000));
  app.add_option("--runs", o.runs, "Runs (3)")->check(CLI::Range(1, 100));
  app.add_option("--workers", o.workers, "io_context threads (cores, less one on SQLite)");
  app.add_option("--log-level", o.log_level, "The runtime's log level (error: no line per job)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--limit", o.limit,
                 "w2-drain, w2-sleep, w4-retry: a cluster-wide concurrency limit of N on the drained kind")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--json", o.json, "One JSON object per run");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto it = std::find_if(all_workloads().begin(), all_workloads().end(),
                         [&](auto& w) { return w.name == o.workload; });
  if (it == all_workloads().end()) {
    std::cerr << "spool-bench: unknown workload '" << o.workload << "'\n";
    return 2;
  }
  if (o.jobs <= 0) o.jobs = it->default_jobs;
  o.relaxed = durability == "relaxed";
  if (o_db->count()) o.db = db;

  std::vector<run_result> results;
  bool ok = true;
  for (int run = 1; run <= o.runs; ++run) {
    scratch tmp;
    const std::string url = o.db.value_or("sqlite:" + (tmp.dir / "bench.db").string());
    reset_database(url);
    std::cerr << fmt::format("spool-bench: {} run {}/{} ({} jobs)...\n", o.workload, run, o.runs, o.jobs);
    run_result r;
    try {
      r = it->run(o, url);
    } catch (const std::exception& e) {
      std::cerr << "spool-bench: " << o.workload << " failed: " << e.what() << "\n";
      return 1;
    }
    r.jobs_per_s = r.seconds > 0 ? r.jobs / r.seconds : 0;
    for (auto& p : r.problems) {
      std::cerr << "spool-bench: CHECK FAILED: " << p << "\n";
      ok = false;
    }
    const int concurrency = r.concurrency ? r.concurrency : o.concurrency;
    if (o.json) {
      boost::json::object line{{"workload", o.workload}, {"db", url.substr(0, url.find(':'))},
                               {"jobs", r.jobs},         {"concurrency", concurrency},
                               {"seconds", r.seconds},   {"jobs_per_s", r.jobs_per_s},
                               {"enqueue_durability", durability},
                               {"run", run},             {"ok", r.problems.empty()}};
      if (o.limit > 0) line["limit"] = o.limit;
      for (auto& [k, v] : r.extra) line[k] = v;
      std::cout << boost::json::serialize(line) << std::endl;
    }
    results.push_back(std::move(r));
    if (url.starts_with("sqlite:")) reset_database(url);
  }
  if (!o.json) {
    auto median = [&](auto get) {
      std::vector<double> v;
      for (auto& r : results) v.push_back(get(r));
      std::sort(v.begin(), v.end());
      return fmt::format("{:.6g} ({:.6g}-{:.6g})", v[v.size() / 2], v.front(), v.back());
    };
    std::cout << fmt::format("{:<14} {:>8} {:>5}  jobs/s {}", o.workload, results[0].jobs,
                             results[0].concurrency ? results[0].concurrency : o.concurrency,
                             median([](auto& r) { return r.jobs_per_s; }));
    for (auto& [k, _] : results[0].extra)
      std::cout << "  " << k << " " << median([k = k](auto& r) { return r.extra.at(k); });
    std::cout << (ok ? "" : "  CHECK FAILED") << "\n";
  }
  return ok ? 0 : 1;
}
