// Portable SQL shared by the SQLite and PostgreSQL stores. Placeholders bind by position, so a
// value used twice is bound twice (:now, :now2). Untyped parameters outside comparisons carry a
// CAST, which PostgreSQL needs to type them and SQLite accepts.
#include "persistence/sql_common.hpp"

#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>
#include <iterator>
#include <limits>

#include "persistence/sql_transaction.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store::sql {

using soci::into;
using soci::use;

std::string json_ints(std::span<const std::int64_t> ids) {
  std::string out = "[";
  for (auto x : ids) fmt::format_to(std::back_inserter(out), "{}{}", out.size() > 1 ? "," : "", x);
  return out + "]";
}

bool plain_success(const jobs::completion& c) {
  return c.change.next == jobs::transition::to::completed && c.change.note.empty() && !c.change.error;
}

std::string completions_json(std::span<const jobs::completion> batch, bool skip_plain_successes) {
  using to = jobs::transition::to;
  std::string out;
  out.reserve(batch.size() * 64);
  out.push_back('[');
  for (const auto& c : batch) {
    if (skip_plain_successes && plain_success(c)) continue;
    const auto& t = c.change;
    const bool ready = t.next == to::retry || t.next == to::requeue;
    fmt::format_to(std::back_inserter(out), "{}[{},{},{},{},{},", out.size() > 1 ? "," : "", c.id,
                   c.lease, static_cast<int>(t.next), t.attempt, to_us(t.at));
    if (ready) fmt::format_to(std::back_inserter(out), "{}", to_us(t.run_at));
    else out += "null";
    out += ',';
    out += t.note.empty() ? std::string("null") : boost::json::serialize(boost::json::string(t.note));
    if (t.error)
      fmt::format_to(std::back_inserter(out), ",{},{},{}", t.error->attempt, to_us(t.error->at),
                     boost::json::serialize(boost::json::string(t.error->message)));
    out += ']';
  }
  out.push_back(']');
  return out;
}

int apply_migrations(soci::session& s, std::span<const migration> all, const std::string& begin) {
  s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
       "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
  int applied = 0;
  for (const auto& m : all) {
    transaction tx(s, begin);
    int present = 0;
    s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", into(present), use(m.version);
    if (present) continue;  // the guard rolls the empty transaction back
    for (const auto& stmt : split_statements(m.sql)) s << stmt;
    long long now_us = to_us(jobs::now());
    std::string name(m.name);
    s << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
        use(m.version), use(name), use(now_us);
    tx.commit();
    ++applied;
  }
  return applied;
}

void ping(soci::session& s) {
  int n = 0;
  s << "SELECT COUNT(*) FROM schema_migrations", into(n);
  if (n == 0) throw store_error("no migrations applied");
}

std::optional<time_point> next_due(soci::session& s, const std::string& queue, time_point now) {
  // One index seek per priority level: a plain MIN(run_at) over the queue would read every row.
  long long after = std::numeric_limits<long long>::min(), level = 0, at = 0, now_us = to_us(now);
  std::optional<long long> earliest;
  for (;; after = level) {
    soci::indicator ind = soci::i_null;
    s << "SELECT MIN(priority) FROM ready WHERE queue = :q AND priority > CAST(:p AS BIGINT)",
      into(level, ind),
        use(queue), use(after);
    if (ind != soci::i_ok) break;
    s << "SELECT MIN(run_at) FROM ready WHERE queue = :q AND priority = :p AND run_at > :n",
        into(at, ind), use(queue), use(level), use(now_us);
    if (ind == soci::i_ok && (!earliest || at < *earliest)) earliest = at;
  }
  if (!earliest) return std::nullopt;
  return from_us(*earliest);
}

std::vector<expired_job> expired(soci::session& s, time_point now, int limit) {
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
}

std::vector<job_id> cancel_requests(soci::session& s) {
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
  if (stale) s << "DELETE FROM cancel_requests WHERE job_id NOT IN (SELECT id FROM running)";
  return out;
}

namespace {

// A job's state follows from the one table that holds it.
constexpr std::string_view select_job_sql = R"sql(
SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.max_attempts, j.unique_key, j.created_at,
  CASE WHEN r.id IS NOT NULL THEN 'running'
       WHEN f.id IS NOT NULL THEN f.state
       WHEN d.id IS NOT NULL THEN 'dead'
       WHEN q.run_at <= :now THEN 'available'
       WHEN q.attempt = 0 THEN 'scheduled'
       ELSE 'retrying' END,
  COALESCE(r.attempt, f.attempt, d.attempt, q.attempt, 0),
  q.run_at,
  COALESCE(r.attempted_at, f.attempted_at, d.attempted_at),
  COALESCE(f.finalized_at, d.dead_at),
  l.lease_until, l.worker,
  COALESCE(f.note, d.last_error, '')
FROM jobs j
LEFT JOIN running r ON r.id = j.id
LEFT JOIN leases l ON l.id = r.lease_id
LEFT JOIN finished f ON f.id = j.id
LEFT JOIN dead_letter_jobs d ON d.id = j.id
LEFT JOIN ready q ON q.id = j.id
WHERE 1 = 1)sql";

std::string_view state_condition(jobs::state s) {
  using jobs::state;
  switch (s) {
    case state::running: return " AND r.id IS NOT NULL";
    case state::completed: return " AND f.state = 'completed'";
    case state::cancelled: return " AND f.state = 'cancelled'";
    case state::dead: return " AND d.id IS NOT NULL";
    case state::available: return " AND q.run_at <= :now2";
    case state::scheduled: return " AND q.run_at > :now2 AND q.attempt = 0";
    case state::retrying: return " AND q.run_at > :now2 AND q.attempt > 0";
  }
  return "";
}

std::optional<jobs::time_point> opt_time(long long v, soci::indicator ind) {
  if (ind != soci::i_ok) return std::nullopt;
  return from_us(v);
}

std::vector<jobs::job> select_jobs(soci::session& s, const std::string& where,
                                   const list_filter& filter, std::optional<job_id> id,
                                   time_point now) {
  std::vector<jobs::job> out;
  long long j_id = 0, created = 0, run_at = 0, attempted = 0, finalized = 0, lease_until = 0;
  long long now_us = to_us(now), id_v = id.value_or(0), before = filter.before.value_or(0);
  int priority = 0, max_attempts = 0, attempt = 0, limit = filter.limit;
  std::string kind, queue, payload, key, st_name, worker, note;
  std::string kind_f = filter.kind.value_or(""), queue_f = filter.queue.value_or("");
  soci::indicator key_i, run_i, att_i, fin_i, lease_i, worker_i;

  soci::statement st(s);
  st.alloc();
  st.prepare(std::string(select_job_sql) + where);
  st.exchange(into(j_id));
  st.exchange(into(kind));
  st.exchange(into(queue));
  st.exchange(into(payload));
  st.exchange(into(priority));
  st.exchange(into(max_attempts));
  st.exchange(into(key, key_i));
  st.exchange(into(created));
  st.exchange(into(st_name));
  st.exchange(into(attempt));
  st.exchange(into(run_at, run_i));
  st.exchange(into(attempted, att_i));
  st.exchange(into(finalized, fin_i));
  st.exchange(into(lease_until, lease_i));
  st.exchange(into(worker, worker_i));
  st.exchange(into(note));
  // Binds in the order their placeholders appear in `where`.
  st.exchange(use(now_us));
  if (id) st.exchange(use(id_v));
  if (filter.state && state_condition(*filter.state).find(":now2") != std::string_view::npos)
    st.exchange(use(now_us));
  if (filter.kind) st.exchange(use(kind_f));
  if (filter.queue) st.exchange(use(queue_f));
  if (filter.before) st.exchange(use(before));
  if (!id) st.exchange(use(limit));
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    jobs::job j;
    j.id = j_id;
    j.kind = kind;
    j.queue = queue;
    j.payload = payload;
    j.priority = priority;
    j.max_attempts = max_attempts;
    if (key_i == soci::i_ok) j.unique_key = key;
    j.created_at = from_us(created);
    j.st = jobs::parse_state(st_name).value_or(jobs::state::available);
    j.attempt = attempt;
    j.run_at = opt_time(run_at, run_i);
    j.attempted_at = opt_time(attempted, att_i);
    j.finalized_at = opt_time(finalized, fin_i);
    j.lease_until = opt_time(lease_until, lease_i);
    if (worker_i == soci::i_ok) j.worker = worker;
    j.note = note;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::optional<jobs::job> get(soci::session& s, job_id id, time_point now) {
  auto found = select_jobs(s, " AND j.id = :id", {}, id, now);
  if (found.empty()) return std::nullopt;
  auto& j = found.front();
  jobs::error_entry e;
  long long at = 0, id_v = id;
  soci::statement st = (s.prepare << "SELECT attempt, at, message FROM job_errors "
                                     "WHERE job_id = :id ORDER BY seq",
                        into(e.attempt), into(at), into(e.message), use(id_v));
  st.execute();
  while (st.fetch()) {
    e.at = from_us(at);
    j.errors.push_back(e);
  }
  return std::move(j);
}

std::vector<jobs::job> list(soci::session& s, const list_filter& filter, time_point now) {
  std::string where;
  if (filter.state) where += state_condition(*filter.state);
  if (filter.kind) where += " AND j.kind = :kind";
  if (filter.queue) where += " AND j.queue = :queue";
  if (filter.before) where += " AND j.id < :before";
  where += " ORDER BY j.id DESC LIMIT :limit";
  return select_jobs(s, where, filter, std::nullopt, now);
}

stats count(soci::session& s, time_point now) {
  stats out;
  for (auto st : {jobs::state::scheduled, jobs::state::available, jobs::state::running,
                  jobs::state::retrying, jobs::state::completed, jobs::state::cancelled,
                  jobs::state::dead})
    out.states[std::string(jobs::to_string(st))] = 0;
  std::string queue, state;
  long long n = 0, now_us = to_us(now);
  soci::statement st =
      (s.prepare << "SELECT queue, 'running', COUNT(*) FROM running GROUP BY queue "
                    "UNION ALL SELECT queue, state, COUNT(*) FROM finished GROUP BY 1, 2 "
                    "UNION ALL SELECT queue, 'dead', COUNT(*) FROM dead_letter_jobs GROUP BY 1 "
                    "UNION ALL SELECT queue, CASE WHEN run_at <= :now THEN 'available' "
                    "WHEN attempt = 0 THEN 'scheduled' ELSE 'retrying' END, COUNT(*) "
                    "FROM ready GROUP BY 1, 2",
       into(queue), into(state), into(n), use(now_us));
  st.execute();
  while (st.fetch()) {
    out.states[state] += n;
    auto& q = out.queues[queue];
    if (q.empty())
      for (auto& [name, _] : out.states) q[name] = 0;
    q[state] += n;
  }
  long long oldest = 0;
  soci::statement due = (s.prepare << "SELECT queue, MIN(run_at) FROM ready "
                                      "WHERE run_at <= :now GROUP BY queue",
                         into(queue), into(oldest), use(now_us));
  due.execute();
  while (due.fetch()) out.oldest_available[queue] = from_us(oldest);
  return out;
}

cancel_result cancel(soci::session& s, job_id id, time_point now) {
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
}

retry_result retry_now(soci::session& s, job_id id, time_point now) {
  long long now_us = to_us(now), id_v = id;
  soci::statement move = (s.prepare << "UPDATE ready SET run_at = :now WHERE id = :id "
                                       "AND run_at > :now2",
                          use(now_us), use(id_v), use(now_us));
  move.execute(true);
  if (move.get_affected_rows() > 0) return retry_result::moved;
  int n = 0;
  s << "SELECT COUNT(*) FROM ready WHERE id = :id", into(n), use(id_v);
  if (n) return retry_result::moved;  // due already
  s << "SELECT COUNT(*) FROM jobs WHERE id = :id", into(n), use(id_v);
  return n ? retry_result::not_waiting : retry_result::not_found;
}

namespace {

// The ids of the dead-lettered jobs an operator means, as a JSON array.
std::string dead_ids(soci::session& s, const dead_filter& f, std::int64_t& n) {
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
  std::vector<std::int64_t> ids;
  while (st.fetch()) ids.push_back(id);
  n = static_cast<std::int64_t>(ids.size());
  return json_ints(ids);
}

}  // namespace

std::int64_t requeue_dead(soci::session& s, const dialect& d, const dead_filter& which,
                          time_point now) {
  std::int64_t n = 0;
  std::string ids = dead_ids(s, which, n);
  if (n == 0) return 0;
  long long now_us = to_us(now);
  const std::string in = std::string(" IN (") + std::string(d.id_list) + ")";
  s << "INSERT INTO ready (queue, priority, run_at, id, attempt) "
       "SELECT d.queue, j.priority, CAST(:now AS bigint), d.id, 0 "
       "FROM dead_letter_jobs d JOIN jobs j ON j.id = d.id WHERE d.id" + in,
      use(now_us), use(ids);
  s << "DELETE FROM dead_letter_jobs WHERE id" + in, use(ids);
  return n;
}

std::int64_t purge_dead(soci::session& s, const dialect& d, const dead_filter& which) {
  std::int64_t n = 0;
  std::string ids = dead_ids(s, which, n);
  if (n == 0) return 0;
  const std::string in = std::string(" IN (") + std::string(d.id_list) + ")";
  s << "DELETE FROM job_errors WHERE job_id" + in, use(ids);
  s << "DELETE FROM unique_keys WHERE job_id" + in, use(ids);
  s << "DELETE FROM jobs WHERE id" + in, use(ids);
  s << "DELETE FROM dead_letter_jobs WHERE id" + in, use(ids);
  return n;
}

bool lead(soci::session& s, const std::string& node, time_point now, jobs::duration ttl) {
  long long now_us = to_us(now), until = to_us(now + ttl);
  s << "INSERT INTO leadership (name, node, expires_at) VALUES ('maintenance', :n, :u) "
       "ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at "
       "WHERE leadership.node = excluded.node OR leadership.expires_at < :now",
      use(node), use(until), use(now_us);
  std::string holder;
  s << "SELECT node FROM leadership WHERE name = 'maintenance'", into(holder);
  return holder == node;
}

void resign(soci::session& s, const std::string& node) {
  s << "DELETE FROM leadership WHERE name = 'maintenance' AND node = :n", use(node);
}

void heartbeat(soci::session& s, const node_info& node, time_point now) {
  std::string queues = "[";
  for (const auto& q : node.queues)
    queues += (queues.size() > 1 ? "," : "") + boost::json::serialize(boost::json::string(q));
  queues += "]";
  long long pid = node.pid, started = to_us(node.started_at), beat = to_us(now);
  s << "INSERT INTO nodes (id, host, pid, started_at, heartbeat_at, queues) "
       "VALUES (:id, :h, :p, :s, :b, :q) ON CONFLICT (id) DO UPDATE SET "
       "heartbeat_at = excluded.heartbeat_at, queues = excluded.queues",
      use(node.id), use(node.host), use(pid), use(started), use(beat), use(queues);
}

void forget_node(soci::session& s, const std::string& id) {
  s << "DELETE FROM nodes WHERE id = :id", use(id);
}

std::int64_t forget_nodes_before(soci::session& s, time_point before) {
  long long b = to_us(before);
  soci::statement st = (s.prepare << "DELETE FROM nodes WHERE heartbeat_at < :b", use(b));
  st.execute(true);
  return st.get_affected_rows();
}

std::vector<node_info> nodes(soci::session& s, time_point now) {
  std::vector<node_info> out;
  node_info n;
  long long pid = 0, started = 0, beat = 0, now_us = to_us(now);
  int leader = 0;
  std::string queues;
  soci::statement st =
      (s.prepare << "SELECT n.id, n.host, n.pid, n.started_at, n.heartbeat_at, n.queues, "
                    "CASE WHEN l.expires_at >= :now THEN 1 ELSE 0 END FROM nodes n "
                    "LEFT JOIN leadership l ON l.node = n.id ORDER BY n.started_at, n.id",
       into(n.id), into(n.host), into(pid), into(started), into(beat), into(queues), into(leader),
       use(now_us));
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
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace spool::store::sql
