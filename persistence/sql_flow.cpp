// Flow control the database keeps for every node (migration 11): queues paused by an operator,
// and each job's snooze tally, which a kind's snooze ceiling is checked against. Portable SQL,
// run through the skeleton's hooks; a file apart from the hot path's statements.
#include <soci/soci.h>

#include <algorithm>

#include "persistence/sql_store.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

void sql_store::set_paused(const std::string& queue, bool paused, time_point now) {
  write("pause queue", true, [&](soci::session& s) {
    const int flag = paused ? 1 : 0;
    const long long at = to_us(now);
    // updated_at is when the pause last changed: pausing a paused queue again keeps its time.
    s << "INSERT INTO queue_settings (queue, paused, updated_at) VALUES (:q, :p, :t) "
         "ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, updated_at = CASE WHEN "
         "queue_settings.paused = excluded.paused THEN queue_settings.updated_at ELSE "
         "excluded.updated_at END",
        use(queue), use(flag), use(at);
  });
}

std::vector<paused_queue> sql_store::paused_queues() {
  return call("read paused queues", [&](soci::session& s) {
    std::vector<paused_queue> out;
    std::string queue;
    long long since = 0;
    soci::statement st = (s.prepare << "SELECT queue, updated_at FROM queue_settings WHERE paused = 1 "
                                       "ORDER BY queue",
                          into(queue), into(since));
    st.execute();
    while (st.fetch()) out.push_back({queue, from_us(since)});
    return out;
  });
}

bool sql_store::any_snooze(std::span<const jobs::completion> done) {
  return std::any_of(done.begin(), done.end(),
                     [](const jobs::completion& c) { return c.change.snoozed.has_value(); });
}

void sql_store::record_snoozes(soci::session& s, std::span<const jobs::completion> done,
                               std::span<const job_id> stale) {
  std::vector<long long> ids, totals;
  std::vector<int> counts;
  for (const auto& c : done) {
    if (!c.change.snoozed || std::find(stale.begin(), stale.end(), c.id) != stale.end()) continue;
    ids.push_back(c.id);
    counts.push_back(c.change.snoozed->count);
    totals.push_back(c.change.snoozed->total.count());
  }
  if (ids.empty()) return;
  // One prepared statement, run once per row (SOCI's bulk binding).
  s << "UPDATE jobs SET snoozes = :n, snoozed_us = :t WHERE id = :id", use(counts), use(totals),
      use(ids);
}

}  // namespace spool::store
