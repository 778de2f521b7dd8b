#pragma once
// Which leases this process holds and how many of their jobs are not yet completed in the store.
// Touched once per claimed batch and once per completion flush, never per job.
#include <map>
#include <mutex>
#include <vector>

#include "jobs/job.hpp"

namespace spool::runtime {

class lease_book {
 public:
  void add(jobs::lease_id lease, int jobs) {
    std::lock_guard lock(mutex_);
    open_[lease] += jobs;
  }
  void release(const std::map<jobs::lease_id, int>& done) {
    std::lock_guard lock(mutex_);
    for (auto [lease, n] : done) {
      auto it = open_.find(lease);
      if (it != open_.end() && (it->second -= n) <= 0) open_.erase(it);
    }
  }
  std::vector<jobs::lease_id> live() const {
    std::lock_guard lock(mutex_);
    std::vector<jobs::lease_id> out;
    for (auto& [lease, _] : open_) out.push_back(lease);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<jobs::lease_id, int> open_;
};

}  // namespace spool::runtime
