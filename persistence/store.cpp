#include "persistence/store.hpp"

#include <algorithm>

#include "persistence/backends.hpp"
#include "persistence/database_url.hpp"

namespace spool::store {

time_point latest_at(std::span<const jobs::completion> done) {
  time_point latest{};
  for (const auto& c : done) latest = std::max(latest, c.change.at);
  return latest;
}

std::vector<jobs::new_job> accepted_follow_ups(std::span<const jobs::completion> done,
                                               std::span<const job_id> stale) {
  std::vector<jobs::new_job> out;
  for (const auto& c : done)
    if (!c.follow_ups.empty() && std::find(stale.begin(), stale.end(), c.id) == stale.end())
      out.insert(out.end(), c.follow_ups.begin(), c.follow_ups.end());
  return out;
}

bool any_dependencies(std::span<const jobs::new_job> batch) {
  return std::any_of(batch.begin(), batch.end(),
                     [](const jobs::new_job& j) { return !j.depends_on.empty() || !j.needs.empty(); });
}

std::vector<std::pair<job_id, jobs::state>> ended_jobs(std::span<const jobs::completion> done,
                                                       std::span<const job_id> stale) {
  using to = jobs::transition::to;
  std::vector<std::pair<job_id, jobs::state>> out;
  for (const auto& c : done) {
    if (std::find(stale.begin(), stale.end(), c.id) != stale.end()) continue;
    const auto next = c.change.next;
    if (next == to::completed) out.emplace_back(c.id, jobs::state::completed);
    else if (next == to::dead) out.emplace_back(c.id, jobs::state::dead);
    else if (next == to::cancelled) out.emplace_back(c.id, jobs::state::cancelled);
  }
  return out;
}

std::unique_ptr<store> open(const std::string& url, const open_options& options) {
  const auto where = locate(url);
  if (where.backend == backend::postgresql) return open_postgres(where, options);
  return open_sqlite(where, options);
}

}  // namespace spool::store
