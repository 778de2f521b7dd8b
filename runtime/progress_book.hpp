#pragma once
// The latest progress report of each running attempt of this process, waiting for the progress
// keeper (maintenance::run_progress_keeper), which stores those reported since its last pass in
// one statement every 500 ms. So a handler may report as often as it likes: the database sees at
// most one write per job per pass, batched with the other jobs'.
#include <mutex>
#include <unordered_map>
#include <vector>

#include "jobs/progress.hpp"

namespace spool::runtime {

class progress_book {
 public:
  // Any thread (the attempt's strand).
  void report(const jobs::claimed_job& job, double fraction, std::string note) {
    std::lock_guard lock(mutex_);
    auto& e = latest_[job.id];
    e.lease = job.lease;
    e.value = {fraction, std::move(note), jobs::now()};
    e.dirty = true;
  }
  // The attempt ended: nothing more of it to store (its running row, with the progress, is gone).
  void forget(jobs::job_id id) {
    std::lock_guard lock(mutex_);
    latest_.erase(id);
  }
  // The reports not yet stored, each job's latest, and marks them stored.
  std::vector<jobs::progress_update> take_unstored() {
    std::lock_guard lock(mutex_);
    std::vector<jobs::progress_update> out;
    for (auto& [id, e] : latest_)
      if (e.dirty) {
        out.push_back({id, e.lease, e.value});
        e.dirty = false;
      }
    return out;
  }

 private:
  struct entry {
    jobs::lease_id lease = 0;
    jobs::progress value;
    bool dirty = false;
  };
  std::mutex mutex_;
  std::unordered_map<jobs::job_id, entry> latest_;
};

}  // namespace spool::runtime
