#pragma once
// Private to persistence/: the job_counts table (core migration 6). Every statement that moves
// jobs between ready, running, finished and dead_letter_jobs, or deletes them, adds its changes
// here in the same transaction, so the counts are exact whenever a transaction is: after a
// crash too. Reading them costs a few rows per queue, however many jobs the tables hold.
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "persistence/dialect.hpp"
#include "persistence/store.hpp"

namespace soci {
class session;
}

namespace spool::store {

// The states job_counts knows: "waiting" is all of `ready` (scheduled, available, retrying).
inline constexpr std::string_view waiting_state = "waiting";

// Changes to the counts, by (queue, state).
class count_deltas {
 public:
  void add(const std::string& queue, std::string_view state, long long n) {
    if (n != 0) d_[{queue, std::string(state)}] += n;
  }
  void move(const std::string& queue, std::string_view from, std::string_view to, long long n) {
    add(queue, from, -n);
    add(queue, to, n);
  }
  void add(const count_deltas& other) {
    for (const auto& [key, n] : other.d_) d_[key] += n;
  }
  void clear() { d_.clear(); }
  // Empty also when every change cancelled out (a round that claimed as many as it completed
  // leaves `running` as it was): those entries are no writes.
  bool empty() const {
    for (const auto& [_, n] : d_)
      if (n != 0) return false;
    return true;
  }
  const auto& entries() const { return d_; }

 private:
  std::map<std::pair<std::string, std::string>, long long> d_;
};

// Writes the changes (in the caller's transaction), in key order: transactions that lock the
// same counter rows lock them in the same order.
void add_counts(soci::session& s, const dialect& d, const count_deltas& deltas);

// The counts of finished states as stored; scheduled, available and retrying split from waiting
// by reading only the jobs of `ready` not yet due (per queue and priority level, by index).
// Runs in the caller's read transaction.
stats read_counts(soci::session& s, time_point now);

}  // namespace spool::store
