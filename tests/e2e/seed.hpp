#pragma once
// Bulk set-up for the load tests: thousands of jobs inserted in one transaction through the store
// call that `spool enqueue` makes itself. Spawning `spool enqueue` once per job costs ~11 ms a
// job, which would spend a minute of a test's budget on set-up alone.
#include <string>
#include <vector>

namespace spool::e2e {

struct seed_job {
  std::string kind;
  std::string payload = "{}";
};

// Inserts the jobs into the default queue of the database at `db_url` (migrating it first) and
// returns their ids in order.
std::vector<long long> seed_jobs(const std::string& db_url, const std::vector<seed_job>& jobs);

}  // namespace spool::e2e
