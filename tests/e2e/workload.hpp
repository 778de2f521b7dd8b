#pragma once
// A mixed workload posted to a runtime's admin API from a background thread, and the ledger of
// what the API acknowledged. The ledger lives in the test process, outside the runtime, so a
// job the runtime loses is really missed. Shared by the fault-injection tests and the soak.
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spool::e2e {

using job_id = std::int64_t;

// What a job is made to do, and so how it must end.
enum class job_sort {
  noop,       // completed
  sleep,      // sleep 20..200 ms: completed
  fail_once,  // fail {"times":1}: one diagnostic failure, then completed
  exhaust,    // fail {"times":99} with max_attempts 2: dead after two attempts
  permanent,  // fail {"permanent":true}: dead at its first real failure
  cancel,     // sleep 3 s, cancelled through the API right after its enqueue: cancelled
};
std::string_view name(job_sort s);

struct ledger_entry {
  job_id id = 0;
  job_sort sort = job_sort::noop;
  int cancel_status = 0;  // cancel jobs: the status of POST .../cancel; 0 if it got no answer
};

struct ledger {
  std::vector<ledger_entry> jobs;  // acknowledged (201), in order
  std::size_t unanswered = 0;      // enqueues without an answer: their jobs may or may not exist
  std::size_t refused = 0;         // enqueues answered with an error status
};

struct workload_options {
  std::uint64_t seed = 1;
  std::chrono::milliseconds pause{5};  // between two requests
  bool failures = true;                // false: noop and sleep only
};

// Posts jobs until stop() or until a request gets no answer (the runtime died). The ledger is
// written by the workload's thread: read it only after stop().
class workload {
 public:
  workload(unsigned short port, ledger& book, workload_options options);
  ~workload();
  workload(const workload&) = delete;
  workload& operator=(const workload&) = delete;

  void stop();  // returns once the thread has ended
  bool ended() const { return ended_; }

 private:
  void run();

  unsigned short port_;
  ledger& book_;
  workload_options options_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::thread thread_;  // last: starts once the members above exist
};

// Empty if the final record of an acknowledged job (GET /api/v1/jobs/ID) is what its sort
// dictates, given that any attempt may also have been lost to a kill ("worker lost"); otherwise
// what is wrong.
std::string check_final(const ledger_entry& entry, const boost::json::object& job);

}  // namespace spool::e2e
