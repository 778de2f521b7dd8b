#include "persistence/pg_insert.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>
#include <set>
#include <unordered_map>

#include "jobs/unique.hpp"
#include "persistence/dialect.hpp"
#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

// The statement in `slot`, prepared by `make` the first time.
template <class Make>
soci::statement& prepared(std::optional<soci::statement>& slot, Make make) {
  if (!slot) slot.emplace(make());
  return *slot;
}

}  // namespace

std::vector<insert_result> pg_insert::rows(std::span<const jobs::new_job> batch, time_point now) {
  std::vector<job_id> ids;
  ids.reserve(batch.size());
  n_ = static_cast<int>(batch.size());
  auto& alloc_ids = prepared(alloc_ids_, [&] {
    return soci::statement((sql_.prepare << "SELECT nextval('jobs_id_seq') FROM "
                                            "generate_series(1, CAST(:n AS integer))",
                            into(id_), use(n_)));
  });
  alloc_ids.execute(false);
  while (alloc_ids.fetch()) ids.push_back(id_);

  // The batch's unique keys are locked first, in one order (sorted) for every transaction: two
  // rounds inserting follow-ups for the same keys in different orders deadlocked otherwise. Each
  // lock serializes inserts of its key (and DLQ requeues that take it back) across nodes until
  // commit; a lookup after it sees whatever the previous holder committed.
  {
    std::set<std::string> keys;
    for (const auto& j : batch)
      if (j.unique_key) keys.insert(*j.unique_key);
    for (const auto& k : keys) {
      key_ = k;
      prepared(lock_key_, [&] {
        return soci::statement((sql_.prepare << std::string(postgres_dialect.unique_key_lock), use(key_)));
      }).execute(true);
    }
  }
  std::vector<insert_result> out(batch.size());
  // A key taken earlier in this batch: its job and whether that job holds it from the start.
  std::unordered_map<std::string, std::pair<job_id, bool>> keys_in_batch;
  std::set<std::string> due_queues;
  std::string& rows = jobs_json_;
  rows.clear();
  rows.push_back('[');
  created_at_ = to_us(now);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& j = batch[i];
    const auto run_at = j.run_at.value_or(now);
    if (j.unique_key) {
      if (auto it = keys_in_batch.find(*j.unique_key); it != keys_in_batch.end()) {
        if (it->second.second) {
          out[i] = {it->second.first, true};
          continue;
        }
        // The earlier job does not hold the key in its first state, and nobody else held it.
      } else {
        // Locked above; the lookup sees whatever the previous holder committed.
        key_ = *j.unique_key;
        auto& find_key_holder = prepared(find_key_holder_, [&] {
          return soci::statement((sql_.prepare << unique_holder_sql(":k", ":n1", ":n2"), into(found_),
                                  use(key_), use(created_at_), use(created_at_)));
        });
        find_key_holder.execute(false);
        bool held = false;
        while (find_key_holder.fetch()) held = true;
        if (held) {
          out[i] = {found_, true};
          continue;
        }
      }
      key_ = *j.unique_key;
      id_ = ids[i];
      prepared(hold_key_, [&] {
        return soci::statement((sql_.prepare << "INSERT INTO unique_keys (key, job_id) VALUES (:k, :id) "
                                                "ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id",
                                use(key_), use(id_)));
      }).execute(true);
      const auto first = run_at <= now ? jobs::state::available : jobs::state::scheduled;
      keys_in_batch[*j.unique_key] = {ids[i], jobs::holds_key(j.unique_states, j.unique_for, first,
                                                              std::nullopt, now)};
    }
    out[i] = {ids[i], false};
    if (run_at <= now) due_queues.insert(j.queue);
    namespace json = boost::json;
    fmt::format_to(std::back_inserter(rows), "{}[{},{},{},{},{},{},{},{},", rows.size() > 1 ? "," : "",
                   ids[i], json::serialize(json::string(j.kind)), json::serialize(json::string(j.queue)),
                   json::serialize(json::string(j.payload)), j.priority, j.max_attempts,
                   j.unique_key ? json::serialize(json::string(*j.unique_key)) : "null", to_us(run_at));
    if (j.unique_key)
      fmt::format_to(std::back_inserter(rows), "{},{}]", j.unique_states, j.unique_for.count());
    else
      rows += "null,null]";
  }
  rows += "]";
  if (rows.size() > 2) {
    prepared(insert_jobs_, [&] {
      return soci::statement((
          sql_.prepare << "WITH input AS (SELECT CAST(v->>0 AS bigint) AS id, v->>1 AS kind, "
                          "v->>2 AS queue, v->>3 AS payload, CAST(v->>4 AS integer) AS priority, "
                          "CAST(v->>5 AS integer) AS max_attempts, v->>6 AS unique_key, "
                          "CAST(v->>7 AS bigint) AS run_at, CAST(v->>8 AS integer) AS unique_states, "
                          "CAST(v->>9 AS bigint) AS unique_for FROM "
                          "jsonb_array_elements(CAST(:b AS jsonb)) v), "
                          "new_jobs AS (INSERT INTO jobs (id, kind, queue, payload, priority, "
                          "max_attempts, unique_key, created_at, unique_states, unique_for) SELECT id, "
                          "kind, queue, payload, priority, max_attempts, unique_key, CAST(:c AS bigint), "
                          "unique_states, unique_for FROM input), "
                          "counted AS (INSERT INTO job_counts (queue, state, shard, n) SELECT queue, "
                          "'waiting', pg_backend_pid() % 16, COUNT(*) FROM input GROUP BY queue "
                          "ORDER BY queue ON CONFLICT (queue, state, shard) DO UPDATE "
                          "SET n = job_counts.n + excluded.n) "
                          "INSERT INTO ready (queue, priority, run_at, id, attempt) "
                          "SELECT queue, priority, run_at, id, 0 FROM input",
          use(jobs_json_), use(created_at_)));
    }).execute(true);
  }
  for (const auto& q : due_queues) notify(q);
  return out;
}

void pg_insert::notify(const std::string& payload) {
  payload_ = payload;
  prepared(notify_, [&] {
    std::string sql = "SELECT pg_notify('";
    sql.append(notify_channel).append("', :q)");
    return soci::statement((sql_.prepare << sql, use(payload_)));
  }).execute(true);
}

}  // namespace spool::store
