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

std::unique_ptr<store> open(const std::string& url, const open_options& options) {
  const auto where = locate(url);
  if (where.backend == backend::postgresql) return open_postgres(where, options);
  return open_sqlite(where, options);
}

}  // namespace spool::store
