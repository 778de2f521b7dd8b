// The skeleton's maintenance reads, operator actions, leadership and node registry: portable
// SQL, run through the concrete store's hooks. Placeholders bind by position, so a value used
// twice is bound twice (:now, :now2). Untyped parameters outside comparisons carry a CAST, which
// PostgreSQL needs to type them and SQLite accepts.
//
// Operator actions and leadership commit durably: the operator has been answered, and a node
// must not lead on a write the disk never saw. The registry and cancel requests are rewritten
// every few seconds anyway.
#include "persistence/sql_store.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <algorithm>
#include <map>

#include "persistence/job_counts.hpp"
#include <set>

#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

// Runs `sql`, a DELETE ... RETURNING queue bound to `ids`; returns how many rows each queue lost.
// Counting what was deleted, not what was found before, keeps the counts exact when another
// transaction took some of the rows first.
std::map<std::string, long long> delete_counted(soci::session& s, const std::string& sql,
                                                const std::string& ids) {
  std::map<std::string, long long> out;
  std::string queue;
  soci::statement st = (s.prepare << sql + " RETURNING queue", into(queue), use(ids));
  st.execute();
  while (st.fetch()) ++out[queue];
  return out;
}

}  // namespace

std::vector<expired_job> sql_store::expired(time_point now, int limit) {
  return call("find expired leases", [&](soci::session& s) {
    std::vector<expired_job> out;
    expired_job e;
    long long id = 0, lease = 0, now_us = to_us(now);
    soci::statement st = (s.prepare << "SELECT r.id, r.lease_id, j.kind, r.queue, r.attempt, "
                                       "j.max_attempts FROM leases l "
                                       "JOIN running r ON r.lease_id = l.id "
                                       "JOIN jobs j ON j.id = r.id "
                                       "WHERE l.lease_until < :n ORDER BY r.id LIMIT :l",
                          into(id), into(lease), into(e.kind), into(e.queue), into(e.attempt),
                          into(e.max_attempts), use(now_us), use(limit));
    st.execute();
    while (st.fetch()) {
      e.id = id;
      e.lease = lease;
      out.push_back(e);
    }
    return out;
  });
}

std::vector<job_id> sql_store::cancel_requests() {
  return write("read cancel requests", false, [&](soci::session& s) {
    std::vector<job_id> out;
    long long id = 0;
    int running = 0;
    bool stale = false;
    soci::statement st = (s.prepare << "SELECT c.job_id, CASE WHEN r.id IS NULL THEN 0 ELSE 1 END "
                                       "FROM cancel_requests c LEFT JOIN running r ON r.id = c.job_id",
                          into(id), into(running));
    st.execute();
    while (st.fetch()) {
      if (running) out.push_back(id);
      else stale = true;
    }
    // Requests whose job no longer runs are done with.
    if (stale) s << "DELETE FROM cancel_requests WHERE job_id NOT IN (SELECT id FROM running)";
    return out;
  });
}

void sql_store::record_progress(std::span<const jobs::progress_update> updates) {
  if (updates.empty()) return;
  // Not durable: a report lost to a power cut is replaced by the next one.
  write("record progress", false, [&](soci::session& s) {
    // One statement for the whole batch: [[id, lease, fraction, note, at], ...].
    boost::json::array rows;
    for (const auto& u : updates)
      rows.push_back(boost::json::array{u.id, u.lease, u.value.fraction, u.value.note, to_us(u.value.at)});
    const std::string batch = boost::json::serialize(rows);
    if (dialect_.backend == backend::sqlite)
      s << "UPDATE running SET progress = u.value->>2, progress_note = u.value->>3, "
           "progress_at = u.value->>4 FROM json_each(:b) u "
           "WHERE running.id = u.value->>0 AND running.lease_id = u.value->>1",
          use(batch);
    else
      s << "UPDATE running r SET progress = CAST(u->>2 AS double precision), progress_note = u->>3, "
           "progress_at = CAST(u->>4 AS bigint) FROM jsonb_array_elements(CAST(:b AS jsonb)) u "
           "WHERE r.id = CAST(u->>0 AS bigint) AND r.lease_id = CAST(u->>1 AS bigint)",
          use(batch);
  });
}

cancel_result sql_store::cancel(job_id id, time_point now) {
  return write("cancel job", true, [&](soci::session& s) {
    long long now_us = to_us(now), id_v = id;
    int attempt = 0;
    std::string queue;
    // Taking the row out of `ready` is the test: a concurrent claim cannot take it as well.
    s << "DELETE FROM ready WHERE id = :id RETURNING queue, attempt", into(queue), into(attempt),
        use(id_v);
    if (s.got_data()) {
      s << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at, note) "
           "VALUES (:id, :q, 'cancelled', :a, NULL, :t, 'cancelled by operator')",
          use(id_v), use(queue), use(attempt), use(now_us);
      count_deltas d;
      d.move(queue, waiting_state, "cancelled", 1);
      add_counts(s, dialect_, d);
      // Jobs waiting for this one are cancelled with it, or count it off (on_parent_failure run);
      // one so made due is found by its producers' next poll.
      settle_dependants(s, {{id, jobs::state::cancelled}}, now);
      return cancel_result::cancelled;
    }
    int n = 0;
    s << "SELECT COUNT(*) FROM running WHERE id = :id", into(n), use(id_v);
    if (n) {
      s << "INSERT INTO cancel_requests (job_id, requested_at) VALUES (:id, :t) "
           "ON CONFLICT (job_id) DO NOTHING",
          use(id_v), use(now_us);
      return cancel_result::requested;
    }
    s << "SELECT COUNT(*) FROM jobs WHERE id = :id", into(n), use(id_v);
    return n ? cancel_result::already_final : cancel_result::not_found;
  });
}

retry_result sql_store::retry_now(job_id id, time_point now) {
  return write("retry job now", true, [&](soci::session& s) {
    long long now_us = to_us(now), id_v = id;
    long long pending = pending_run_at;
    soci::statement move = (s.prepare << "UPDATE ready SET run_at = :now WHERE id = :id "
                                         "AND run_at > :now2 AND run_at < :p",
                            use(now_us), use(id_v), use(now_us), use(pending));
    move.execute(true);
    if (move.get_affected_rows() > 0) return retry_result::moved;
    int n = 0;
    s << "SELECT COUNT(*) FROM ready WHERE id = :id AND run_at < :p", into(n), use(id_v), use(pending);
    if (n) return retry_result::moved;  // due already (a pending job waits for its parents)
    s << "SELECT COUNT(*) FROM jobs WHERE id = :id", into(n), use(id_v);
    return n ? retry_result::not_waiting : retry_result::not_found;
  });
}

// Runs act(session, found, in) on the dead-lettered jobs an operator means, if there are any:
// `found` their ids, `in(ids)` " IN (subquery of those ids)" with the id array to bind. Returns
// what act returns, 0 when there are none.
template <class Act>
std::int64_t sql_store::on_dead_jobs(const char* op, const dead_filter& f, Act act) {
  return write(op, true, [&](soci::session& s) -> std::int64_t {
    std::string where = " WHERE 1 = 1";
    long long id_v = f.id.value_or(0), id = 0;
    std::string kind = f.kind.value_or(""), queue = f.queue.value_or("");
    if (f.id) where += " AND d.id = :id";
    if (f.kind) where += " AND j.kind = :kind";
    if (f.queue) where += " AND d.queue = :queue";
    soci::statement st(s);
    st.alloc();
    st.prepare("SELECT d.id FROM dead_letter_jobs d JOIN jobs j ON j.id = d.id" + where);
    st.exchange(into(id));
    if (f.id) st.exchange(use(id_v));
    if (f.kind) st.exchange(use(kind));
    if (f.queue) st.exchange(use(queue));
    st.define_and_bind();
    st.execute();
    std::vector<std::int64_t> found;
    while (st.fetch()) found.push_back(id);
    if (found.empty()) return 0;
    return act(s, found, " IN (" + std::string(dialect_.id_list) + ")");
  });
}

std::int64_t sql_store::requeue_dead(const dead_filter& which, time_point now) {
  return on_dead_jobs("requeue dead jobs", which,
                      [&](soci::session& s, std::vector<std::int64_t> found, const std::string& in) {
                        long long now_us = to_us(now);
                        // A job with a unique key takes it back, unless another job holds it
                        // now: then it stays dead, so that two jobs never hold one key.
                        const auto blocked = take_keys_back(s, found, in, now_us);
                        std::erase_if(found, [&](auto id) { return blocked.count(id) > 0; });
                        if (found.empty()) return std::int64_t{0};
                        auto ids = id_array(found);
                        s << "INSERT INTO ready (queue, priority, run_at, id, attempt) "
                             "SELECT d.queue, j.priority, CAST(:now AS bigint), d.id, 0 "
                             "FROM dead_letter_jobs d JOIN jobs j ON j.id = d.id WHERE d.id" + in,
                            use(now_us), use(ids);
                        // A fresh start: its snoozes count again from none (max_snoozes).
                        s << "UPDATE jobs SET snoozes = 0, snoozed_us = 0 WHERE (snoozes <> 0 OR "
                             "snoozed_us <> 0) AND id" + in,
                            use(ids);
                        count_deltas d;
                        for (const auto& [queue, n] :
                             delete_counted(s, "DELETE FROM dead_letter_jobs WHERE id" + in, ids))
                          d.move(queue, "dead", waiting_state, n);
                        add_counts(s, dialect_, d);
                        return static_cast<std::int64_t>(found.size());
                      });
}

std::set<std::int64_t> sql_store::take_keys_back(soci::session& s, std::span<const std::int64_t> found,
                                                 const std::string& in, long long now_us) {
  std::vector<std::pair<std::int64_t, std::string>> keyed;
  {
    auto ids = id_array(found);
    long long id = 0;
    std::string key;
    soci::statement st = (s.prepare << "SELECT id, unique_key FROM jobs WHERE unique_key IS NOT NULL "
                                       "AND id" + in + " ORDER BY unique_key, id",
                          into(id), into(key), use(ids));
    st.execute();
    while (st.fetch()) keyed.emplace_back(id, key);
  }
  std::set<std::int64_t> blocked;
  std::set<std::string> taken;
  const auto holder_sql = unique_holder_sql(":k", ":n1", ":n2");
  for (auto& [id, key] : keyed) {
    if (!taken.insert(key).second) {  // an earlier job of this requeue took it
      blocked.insert(id);
      continue;
    }
    if (!dialect_.unique_key_lock.empty()) s << std::string(dialect_.unique_key_lock), use(key);
    long long holder = 0;
    s << holder_sql, into(holder), use(key), use(now_us), use(now_us);
    if (s.got_data() && holder != id) {
      blocked.insert(id);
      continue;
    }
    long long id_v = id;
    s << "INSERT INTO unique_keys (key, job_id) VALUES (:k, :id) "
         "ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id",
        use(key), use(id_v);
  }
  return blocked;
}

std::int64_t sql_store::purge_dead(const dead_filter& which) {
  return on_dead_jobs("purge dead jobs", which,
                      [&](soci::session& s, const std::vector<std::int64_t>& found, const std::string& in) {
                        auto ids = id_array(found);
                        count_deltas d;
                        for (const auto& [queue, n] :
                             delete_counted(s, "DELETE FROM dead_letter_jobs WHERE id" + in, ids))
                          d.add(queue, "dead", -n);
                        delete_job_rows(s, ids, in);
                        add_counts(s, dialect_, d);
                        return static_cast<std::int64_t>(found.size());
                      });
}

void sql_store::delete_job_rows(soci::session& s, const std::string& ids, const std::string& in) {
  auto remove = [&](const std::string& sql) {
    if (ids.empty()) s << sql;  // `in` names its ids itself
    else s << sql, use(ids);
  };
  remove("DELETE FROM job_errors WHERE job_id" + in);
  remove("DELETE FROM unique_keys WHERE job_id" + in);
  remove("DELETE FROM job_results WHERE job_id" + in);
  remove("DELETE FROM job_dependencies WHERE child_id" + in);
  remove("DELETE FROM job_dependencies WHERE parent_id" + in);
  for (const auto& component : schemas_)
    for (const auto& owned : component.job_rows)
      remove("DELETE FROM " + owned.table + " WHERE " + owned.job_column + in);
  remove("DELETE FROM jobs WHERE id" + in);
}

std::int64_t sql_store::prune(const prune_request& which) {
  const bool dead = which.state == jobs::state::dead;
  if (!dead && which.state != jobs::state::completed && which.state != jobs::state::cancelled)
    throw store_error("prune: jobs in state '" + std::string(jobs::to_string(which.state)) +
                      "' are not finished");
  // Not durable: a prune lost to a power cut is done again by the next pass.
  return write("prune jobs", false, [&](soci::session& s) -> std::int64_t {
    const std::string table = dead ? "dead_letter_jobs" : "finished";
    const std::string at = dead ? "dead_at" : "finalized_at";
    std::string state(jobs::to_string(which.state)), queue = which.queue.value_or("");
    long long before = to_us(which.before), id = 0;
    int limit = which.limit;
    std::string where = dead ? " WHERE " + at + " < :b" : " WHERE state = :s AND " + at + " < :b";
    if (which.queue) where += " AND queue = :q";
    auto except = which.except;
    if (!which.queue && !except.empty()) {
      where += " AND queue NOT IN (";
      for (std::size_t i = 0; i < except.size(); ++i) where += i ? ", :e" + std::to_string(i) : ":e0";
      where += ")";
    }
    // SQLite keeps the batch's ids in a temporary table that every delete below joins: no id
    // list to fetch, format and parse five times over (docs/benchmarks.md: a third of the cost
    // of a prune).
    const bool temp = dialect_.backend == backend::sqlite;
    if (temp) s << "CREATE TEMP TABLE IF NOT EXISTS pruned (id INTEGER PRIMARY KEY, queue TEXT NOT NULL)";
    soci::statement st(s);
    st.alloc();
    st.prepare(std::string(temp ? "INSERT INTO temp.pruned (id, queue) " : "") + "SELECT id, queue FROM " +
               table + where + " ORDER BY " + at + " LIMIT :l");
    if (!temp) st.exchange(into(id));
    if (!dead) st.exchange(use(state));
    st.exchange(use(before));
    if (which.queue) st.exchange(use(queue));
    if (!which.queue)
      for (auto& e : except) st.exchange(use(e));
    st.exchange(use(limit));
    st.define_and_bind();
    count_deltas d;
    std::int64_t pruned = 0;
    if (temp) {
      st.execute(true);
      std::string q;
      long long n = 0;
      soci::statement per_queue = (s.prepare << "SELECT queue, COUNT(*) FROM temp.pruned GROUP BY queue",
                                   into(q), into(n));
      per_queue.execute();
      while (per_queue.fetch()) {
        d.add(q, state, -n);
        pruned += n;
      }
      if (pruned == 0) return 0;
      const std::string in = " IN (SELECT id FROM temp.pruned)";
      s << "DELETE FROM " + table + " WHERE id" + in;
      delete_job_rows(s, "", in);
      s << "DELETE FROM temp.pruned";
    } else {
      st.execute();
      std::vector<std::int64_t> found;
      while (st.fetch()) found.push_back(id);
      if (found.empty()) return 0;
      const auto ids = id_array(found);
      const std::string in = " IN (" + std::string(dialect_.id_list) + ")";
      for (const auto& [queue, n] : delete_counted(s, "DELETE FROM " + table + " WHERE id" + in, ids)) {
        d.add(queue, state, -n);
        pruned += n;
      }
      delete_job_rows(s, ids, in);
    }
    add_counts(s, dialect_, d);
    return pruned;
  });
}

bool sql_store::lead(const std::string& node, time_point now, jobs::duration ttl) {
  return write("take leadership", true, [&](soci::session& s) {
    long long now_us = to_us(now), until = to_us(now + ttl);
    s << "INSERT INTO leadership (name, node, expires_at) VALUES ('maintenance', :n, :u) "
         "ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at "
         "WHERE leadership.node = excluded.node OR leadership.expires_at < :now",
        use(node), use(until), use(now_us);
    std::string holder;
    s << "SELECT node FROM leadership WHERE name = 'maintenance'", into(holder);
    return holder == node;
  });
}

void sql_store::resign(const std::string& node) {
  write("resign leadership", true, [&](soci::session& s) {
    s << "DELETE FROM leadership WHERE name = 'maintenance' AND node = :n", use(node);
  });
}

void sql_store::heartbeat(const node_info& node, time_point now) {
  write("record node", false, [&](soci::session& s) {
    auto array = [](const std::vector<std::string>& names) {
      std::string out = "[";
      for (const auto& n : names)
        out += (out.size() > 1 ? "," : "") + boost::json::serialize(boost::json::string(n));
      return out + "]";
    };
    const std::string queues = array(node.queues), kinds = array(node.kinds);
    long long pid = node.pid, started = to_us(node.started_at), beat = to_us(now);
    s << "INSERT INTO nodes (id, host, pid, started_at, heartbeat_at, queues, kinds) "
         "VALUES (:id, :h, :p, :s, :b, :q, :k) ON CONFLICT (id) DO UPDATE SET "
         "heartbeat_at = excluded.heartbeat_at, queues = excluded.queues, kinds = excluded.kinds",
        use(node.id), use(node.host), use(pid), use(started), use(beat), use(queues), use(kinds);
  });
}

void sql_store::forget_node(const std::string& id) {
  write("remove node", false,
        [&](soci::session& s) { s << "DELETE FROM nodes WHERE id = :id", use(id); });
}

std::int64_t sql_store::forget_nodes_before(time_point before) {
  return write("remove silent nodes", false, [&](soci::session& s) -> std::int64_t {
    long long b = to_us(before);
    soci::statement st = (s.prepare << "DELETE FROM nodes WHERE heartbeat_at < :b", use(b));
    st.execute(true);
    return st.get_affected_rows();
  });
}

std::vector<node_info> sql_store::nodes(time_point now) {
  return call("list nodes", [&](soci::session& s) {
    std::vector<node_info> out;
    node_info n;
    long long pid = 0, started = 0, beat = 0, now_us = to_us(now);
    int leader = 0;
    std::string queues, kinds;
    soci::statement st =
        (s.prepare << "SELECT n.id, n.host, n.pid, n.started_at, n.heartbeat_at, n.queues, n.kinds, "
                      "CASE WHEN l.expires_at >= :now THEN 1 ELSE 0 END FROM nodes n "
                      "LEFT JOIN leadership l ON l.node = n.id ORDER BY n.started_at, n.id",
         into(n.id), into(n.host), into(pid), into(started), into(beat), into(queues), into(kinds),
         into(leader), use(now_us));
    st.execute();
    while (st.fetch()) {
      node_info copy = n;
      copy.pid = pid;
      copy.started_at = from_us(started);
      copy.heartbeat_at = from_us(beat);
      copy.leader = leader != 0;
      copy.queues.clear();
      const auto parsed = boost::json::parse(queues);  // written by heartbeat()
      for (const auto& q : parsed.as_array()) copy.queues.emplace_back(q.as_string());
      copy.kinds.clear();
      const auto parsed_kinds = boost::json::parse(kinds);  // written by heartbeat()
      for (const auto& k : parsed_kinds.as_array()) copy.kinds.emplace_back(k.as_string());
      out.push_back(std::move(copy));
    }
    // Running jobs per node: as many rows as run at once (the nodes' concurrency), one statement.
    std::string worker;
    long long running = 0;
    soci::statement count = (s.prepare << "SELECT l.worker, COUNT(*) FROM running r JOIN leases l "
                                          "ON l.id = r.lease_id GROUP BY l.worker",
                             into(worker), into(running));
    count.execute();
    while (count.fetch())
      for (auto& node : out)
        if (node.id == worker) node.running = running;
    return out;
  });
}

std::optional<insert_result> sql_store::enqueue_periodic(const std::string& name, time_point tick,
                                                        const jobs::new_job& job, time_point now) {
  return write("enqueue periodic job", true, [&](soci::session& s) -> std::optional<insert_result> {
    // Moving the schedule's last tick forward is the claim on the tick: a concurrent leader's
    // upsert waits for this row and then finds the tick taken (no row returned).
    long long tick_us = to_us(tick);
    std::string moved;
    soci::indicator ind = soci::i_null;
    s << "INSERT INTO periodic (name, last_tick) VALUES (:n, :t) ON CONFLICT (name) DO UPDATE "
         "SET last_tick = excluded.last_tick, last_job_id = NULL "
         "WHERE periodic.last_tick < excluded.last_tick RETURNING name",
        use(name), use(tick_us), into(moved, ind);
    if (!s.got_data() || ind != soci::i_ok) return std::nullopt;
    auto inserted = insert_in_transaction(std::span(&job, 1), now);
    long long id = inserted.at(0).id;
    s << "UPDATE periodic SET last_job_id = :id WHERE name = :n", use(id), use(name);
    return inserted[0];
  });
}

std::vector<periodic_row> sql_store::periodic_rows() {
  return call("read periodic schedules", [&](soci::session& s) {
    std::vector<periodic_row> out;
    std::string name;
    long long tick = 0, job = 0;
    soci::indicator job_ind = soci::i_null;
    soci::statement st = (s.prepare << "SELECT name, last_tick, last_job_id FROM periodic ORDER BY name",
                          into(name), into(tick), into(job, job_ind));
    st.execute();
    while (st.fetch()) {
      periodic_row p{name, from_us(tick), std::nullopt};
      if (job_ind == soci::i_ok) p.last_job_id = job;
      out.push_back(std::move(p));
    }
    return out;
  });
}

std::int64_t sql_store::forget_periodic(std::span<const std::string> keep) {
  return write("forget removed periodic schedules", true, [&](soci::session& s) -> std::int64_t {
    std::vector<std::string> names;
    {
      soci::rowset<std::string> rows = (s.prepare << "SELECT name FROM periodic");
      for (const auto& n : rows)
        if (std::find(keep.begin(), keep.end(), n) == keep.end()) names.push_back(n);
    }
    for (const auto& n : names) s << "DELETE FROM periodic WHERE name = :n", use(n);
    return static_cast<std::int64_t>(names.size());
  });
}

}  // namespace spool::store
