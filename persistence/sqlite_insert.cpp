#include "persistence/sqlite_insert.hpp"

#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

// Parameters are numbered; a value used twice is bound once (?1 ... ?1).
sqlite_insert::sqlite_insert(sqlite_api::sqlite3* db)
    : db_(db),
      insert_job_{db,
                  "INSERT INTO jobs (kind, queue, payload, priority, max_attempts, unique_key, "
                  "created_at, unique_states, unique_for) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
      insert_ready_{db,
                    "INSERT INTO ready (queue, priority, run_at, id, attempt) "
                    "VALUES (?1, ?2, ?3, ?4, 0)"},
      find_key_holder_{db, unique_holder_sql("?1", "?2", "?2")},
      hold_key_{db, "INSERT OR REPLACE INTO unique_keys (key, job_id) VALUES (?1, ?2)"},
      // job_counts: each statement's changes, summed per queue and state (see job_counts.hpp).
      add_count_{db,
                 "INSERT INTO job_counts (queue, state, shard, n) VALUES (?1, ?2, 0, ?3) "
                 "ON CONFLICT (queue, state, shard) DO UPDATE SET n = job_counts.n + excluded.n"} {}

std::vector<insert_result> sqlite_insert::rows(std::span<const jobs::new_job> batch, time_point now) {
  std::vector<insert_result> out;
  out.reserve(batch.size());
  const long long created_at = to_us(now);
  count_deltas counts;
  for (const auto& j : batch) {
    if (j.unique_key) {
      // Whoever the key's row names holds it only while in its chosen states; otherwise the new
      // job takes the row over. The write transaction serialises this against every other writer.
      find_key_holder_.bind(1, *j.unique_key).bind(2, created_at);
      if (find_key_holder_.step()) {
        out.push_back({find_key_holder_.int64(0), true});
        find_key_holder_.reset();
        continue;
      }
    }
    insert_job_.bind(1, j.kind).bind(2, j.queue).bind(3, j.payload).bind(4, j.priority)
        .bind(5, j.max_attempts);
    if (j.unique_key)
      insert_job_.bind(6, *j.unique_key).bind(8, static_cast<long long>(j.unique_states))
          .bind(9, static_cast<long long>(j.unique_for.count()));
    else
      insert_job_.bind_null(6).bind_null(8).bind_null(9);
    insert_job_.bind(7, created_at).run();
    const long long id = sqlite_api::sqlite3_last_insert_rowid(db_);
    insert_ready_.bind(1, j.queue).bind(2, j.priority).bind(3, to_us(j.run_at.value_or(now)))
        .bind(4, id).run();
    if (j.unique_key) hold_key_.bind(1, *j.unique_key).bind(2, id).run();
    counts.add(j.queue, waiting_state, 1);
    out.push_back({id, false});
  }
  add_counts(counts);
  return out;
}

void sqlite_insert::add_counts(const count_deltas& counts) {
  for (const auto& [key, n] : counts.entries())
    add_count_.bind(1, key.first).bind(2, key.second).bind(3, n).run();
}

}  // namespace spool::store
