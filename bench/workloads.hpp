#pragma once
// The benchmark workloads. Each run gets a fresh database and drives the same library and runtime
// as build/spool; none takes a special path.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spool::bench {

struct options {
  std::string workload;
  std::optional<std::string> db;  // sqlite:PATH or postgresql://...; default a temp SQLite file
  int jobs = 0;                   // 0: the workload's default
  int concurrency = 100;
  int batch = 1000;  // store-ceiling: jobs claimed per round
  int runs = 3;
  int workers = 0;  // io_context threads; 0 = cores
  bool json = false;
  bool relaxed = false;  // --enqueue-durability relaxed
  std::string log_level = "error";
  int limit = 0;  // --limit: a cluster-wide concurrency limit on the drained kind; 0 none
};

// Empties the database a run uses: SQLite's files are removed; on PostgreSQL the public schema is
// dropped and recreated (so --db must name a scratch database).
void reset_database(const std::string& url);

struct run_result {
  double seconds = 0;
  double jobs_per_s = 0;
  int jobs = 0;
  int concurrency = 0;  // what the run used, where it is not --concurrency (mem-inflight: all)
  std::map<std::string, double> extra;  // p50_ms, peak_rss_mib, ratio, ...
  std::vector<std::string> problems;    // correctness failures (exactly-once, counts)
};

using workload_fn = std::function<run_result(const options&, const std::string& db_url)>;

struct workload {
  std::string name;
  int default_jobs;
  std::string what;
  workload_fn run;
};

const std::vector<workload>& all_workloads();

}  // namespace spool::bench
