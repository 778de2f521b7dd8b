#include "persistence/job_counts.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <limits>

#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

void add_counts(soci::session& s, const dialect& d, const count_deltas& deltas) {
  if (deltas.empty()) return;
  std::string queue, state;
  long long n = 0;
  soci::statement st = (s.prepare << "INSERT INTO job_counts (queue, state, shard, n) VALUES (:q, :s, " +
                                         std::string(d.count_shard) +
                                         ", :n) ON CONFLICT (queue, state, shard) DO UPDATE "
                                         "SET n = job_counts.n + excluded.n",
                        use(queue), use(state), use(n));
  for (const auto& [key, delta] : deltas.entries()) {
    if (delta == 0) continue;
    queue = key.first;
    state = key.second;
    n = delta;
    st.execute(true);
  }
}

stats read_counts(soci::session& s, time_point now) {
  stats out;
  for (auto st : {jobs::state::scheduled, jobs::state::available, jobs::state::running,
                  jobs::state::retrying, jobs::state::completed, jobs::state::cancelled,
                  jobs::state::dead, jobs::state::pending})
    out.states[std::string(jobs::to_string(st))] = 0;
  const auto zero = out.states;
  std::map<std::string, std::map<std::string, std::int64_t>> stored;
  {
    std::string queue, state;
    long long n = 0;
    soci::statement st = (s.prepare << "SELECT queue, state, CAST(SUM(n) AS BIGINT) FROM job_counts "
                                       "GROUP BY queue, state",
                          into(queue), into(state), into(n));
    st.execute();
    while (st.fetch()) stored[queue][state] = n;
  }
  const long long now_us = to_us(now), pending = pending_run_at;
  for (auto& [queue, states] : stored) {
    std::int64_t total = 0;
    for (auto& [_, n] : states) total += n;
    if (total == 0) continue;  // every job of the queue is gone
    auto& q = out.queues[queue];
    q = zero;
    for (auto& [state, n] : states)
      if (state != waiting_state) q[state] = n;
    const auto waiting = states[std::string(waiting_state)];
    if (waiting <= 0) continue;
    // The waiting jobs not yet due, level by level: an index range each. Its cost grows with
    // the jobs scheduled for later, never with the finished ones nor with a due backlog.
    long long after = std::numeric_limits<long long>::min(), level = 0, first = 0, later = 0,
              fresh = 0;
    std::optional<long long> oldest;
    for (;; after = level) {
      soci::indicator ind = soci::i_null;
      s << "SELECT MIN(priority) FROM ready WHERE queue = :q AND priority > CAST(:p AS BIGINT)",
          into(level, ind), use(queue), use(after);
      if (ind != soci::i_ok) break;
      s << "SELECT MIN(run_at) FROM ready WHERE queue = :q AND priority = :p", into(first, ind),
          use(queue), use(level);
      if (ind == soci::i_ok && first <= now_us && (!oldest || first < *oldest)) oldest = first;
      soci::indicator fi = soci::i_null;
      s << "SELECT COUNT(*), CAST(SUM(CASE WHEN attempt = 0 THEN 1 ELSE 0 END) AS BIGINT) FROM ready "
           "WHERE queue = :q AND priority = :p AND run_at > :n AND run_at < :pending",
          into(later), into(fresh, fi), use(queue), use(level), use(now_us), use(pending);
      if (fi != soci::i_ok) fresh = 0;
      q["scheduled"] += fresh;
      q["retrying"] += later - fresh;
      // Pending jobs (waiting for their parents) sit at the end of the level's key.
      long long waiting_for_parents = 0;
      s << "SELECT COUNT(*) FROM ready WHERE queue = :q AND priority = :p AND run_at = :pending",
          into(waiting_for_parents), use(queue), use(level), use(pending);
      q["pending"] += waiting_for_parents;
    }
    q["available"] = std::max<std::int64_t>(0, waiting - q["scheduled"] - q["retrying"] - q["pending"]);
    if (oldest) out.oldest_available[queue] = from_us(*oldest);
  }
  for (auto& [_, q] : out.queues)
    for (auto& [state, n] : q) out.states[state] += n;
  return out;
}

}  // namespace spool::store
