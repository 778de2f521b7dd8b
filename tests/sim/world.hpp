#pragma once
// What every part of one simulation run shares: the clock, the one random generator, the step log
// and the scenario's settings. The generator is the only source of randomness, so a seed replays
// a run exactly.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "jobs/registry.hpp"
#include "tests/sim/event_queue.hpp"
#include "tests/sim/step_log.hpp"

namespace spool::sim {

// How often the store double and the nodes misbehave. All zero once the run turns calm.
struct fault_rates {
  double fail = 0;         // a store call throws before touching the database
  double reply_lost = 0;   // a store call commits, then throws as if the reply never came
  double crash_after = 0;  // the node dies right after a store call returned, before using it
  double slow = 0;         // a store call takes up to seconds
  double hang = 0;         // a store call takes longer than a lease (a stuck disk, a lock)
};

// The runtime settings that matter here (config::settings), scaled down so a run is short.
struct timing {
  duration lease;            // settings.lease_s; renewed every lease / 3
  duration poll;             // settings.poll_interval_s
  duration rescue_interval;  // settings.rescue_interval_s
  duration grace;            // settings.grace_s
};

struct kind_spec {
  std::string name;
  jobs::kind_options options;
};

class oracle;

struct world {
  world(std::uint64_t seed, time_point start) : rng(seed), events(start), log(start, 80) {}

  std::mt19937_64 rng;
  event_queue events;
  step_log log;
  oracle* truth = nullptr;
  std::string db_path;
  timing times{};
  std::vector<kind_spec> kinds;
  fault_rates faults;
  bool calm = false;  // the end of a run: no more faults or chaos, every job must finish
  std::map<std::string, std::int64_t> tally;  // what happened, for the figures a run prints

  time_point now() const { return events.now(); }
  void note(const std::string& text) { log.line(now(), text); }
  void count(const std::string& what, std::int64_t n = 1) { tally[what] += n; }

  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < p; }
  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  duration span(duration lo, duration hi) {
    return duration(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng));
  }
  const kind_spec& kind(const std::string& name) const {
    for (const auto& k : kinds)
      if (k.name == name) return k;
    return kinds.front();
  }
};

}  // namespace spool::sim
