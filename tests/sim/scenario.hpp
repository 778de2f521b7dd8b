#pragma once
// One random scenario, drawn from its seed: two or three nodes on one SQLite file, clients
// enqueueing, faults and chaos for a while, then calm until every job has finished.
#include <cstdint>
#include <map>
#include <string>

namespace spool::sim {

struct run_result {
  bool ok = true;
  std::string failure;   // the invariant that broke
  std::string log_tail;  // the last steps before it broke
  std::size_t steps = 0;
  double simulated_s = 0;
  std::map<std::string, std::int64_t> tally;
};

// Runs the scenario of `seed` on a fresh database file in `dir`.
run_result run_scenario(std::uint64_t seed, const std::string& dir);

}  // namespace spool::sim
