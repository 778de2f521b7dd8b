#pragma once
// Which buffered completions go to the store together. Plain code, shared by the completer and
// the deterministic simulation (tests/sim).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <unordered_set>
#include <utility>
#include <vector>

#include "jobs/job.hpp"

namespace spool::runtime {

// Takes the next batch out of `buffer`: the first `limit` items, in order, except that a job
// appears at most once. A job claimed again while its previous completion still waits for a
// commit (its lease was lost during a database outage) has two; the store answers a batch with
// the ids it rejected, so with both in one batch the stale one would take the valid one down
// with it. The rest stay in `buffer`, in order, for the next batch.
template <class T, class IdOf>
std::vector<T> take_batch(std::vector<T>& buffer, IdOf id_of, std::size_t limit = SIZE_MAX) {
  const auto n = std::min(limit, buffer.size());
  std::vector<jobs::job_id> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ids.push_back(id_of(buffer[i]));
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) == ids.end()) {
    if (n == buffer.size()) return std::exchange(buffer, {});
    std::vector<T> batch(std::make_move_iterator(buffer.begin()),
                         std::make_move_iterator(buffer.begin() + static_cast<std::ptrdiff_t>(n)));
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    return batch;
  }

  std::vector<T> batch, later;
  std::unordered_set<jobs::job_id> taken;
  for (auto& item : buffer)
    (batch.size() < n && taken.insert(id_of(item)).second ? batch : later).push_back(std::move(item));
  buffer = std::move(later);
  return batch;
}

}  // namespace spool::runtime
