// Operator views and actions of the SQLite store: reads across the state tables, and the rare
// writes an operator asks for. None of this is on the claim/complete path.
#include <soci/soci.h>

#include "persistence/sqlite_detail.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

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

}  // namespace

std::vector<jobs::job> sqlite_store::select_jobs(const std::string& where, const list_filter& filter,
                                                 std::optional<job_id> id, time_point now) {
  std::vector<jobs::job> out;
  long long j_id = 0, created = 0, run_at = 0, attempted = 0, finalized = 0, lease_until = 0;
  long long now_us = to_us(now), id_v = id.value_or(0), before = filter.before.value_or(0);
  int priority = 0, max_attempts = 0, attempt = 0, limit = filter.limit;
  std::string kind, queue, payload, key, st_name, worker, note;
  std::string kind_f = filter.kind.value_or(""), queue_f = filter.queue.value_or("");
  soci::indicator key_i, run_i, att_i, fin_i, lease_i, worker_i;

  soci::statement st(*sql_);
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

void sqlite_store::ping() {
  read("ping", [&] {
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM schema_migrations", into(n);
    if (n == 0) throw store_error("no migrations applied");
  });
}

std::optional<jobs::job> sqlite_store::get(job_id id, time_point now) {
  return read("read job", [&]() -> std::optional<jobs::job> {
    auto found = select_jobs(" AND j.id = :id", {}, id, now);
    if (found.empty()) return std::nullopt;
    auto& j = found.front();
    jobs::error_entry e;
    long long at = 0;
    soci::statement st = (sql_->prepare << "SELECT attempt, at, message FROM job_errors "
                                           "WHERE job_id = :id ORDER BY seq",
                          into(e.attempt), into(at), into(e.message), use(id));
    st.execute();
    while (st.fetch()) {
      e.at = from_us(at);
      j.errors.push_back(e);
    }
    return std::move(j);
  });
}

std::vector<jobs::job> sqlite_store::list(const list_filter& filter, time_point now) {
  return read("list jobs", [&] {
    std::string where;
    if (filter.state) where += state_condition(*filter.state);
    if (filter.kind) where += " AND j.kind = :kind";
    if (filter.queue) where += " AND j.queue = :queue";
    if (filter.before) where += " AND j.id < :before";
    where += " ORDER BY j.id DESC LIMIT :limit";
    return select_jobs(where, filter, std::nullopt, now);
  });
}

stats sqlite_store::count(time_point now) {
  return read("count jobs", [&] {
    stats out;
    for (auto s : {jobs::state::scheduled, jobs::state::available, jobs::state::running,
                   jobs::state::retrying, jobs::state::completed, jobs::state::cancelled,
                   jobs::state::dead})
      out.states[std::string(jobs::to_string(s))] = 0;
    std::string queue, state;
    long long n = 0, now_us = to_us(now);
    soci::statement st =
        (sql_->prepare << "SELECT queue, 'running', COUNT(*) FROM running GROUP BY queue "
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
    soci::statement due = (sql_->prepare << "SELECT queue, MIN(run_at) FROM ready "
                                            "WHERE run_at <= :now GROUP BY queue",
                           into(queue), into(oldest), use(now_us));
    due.execute();
    while (due.fetch()) out.oldest_available[queue] = from_us(oldest);
    return out;
  });
}

cancel_result sqlite_store::cancel(job_id id, time_point now) {
  return write("cancel job", false, [&] {
    long long now_us = to_us(now);
    int attempt = 0;
    std::string queue;
    *sql_ << "SELECT queue, attempt FROM ready WHERE id = :id", into(queue), into(attempt), use(id);
    if (sql_->got_data()) {
      *sql_ << "DELETE FROM ready WHERE id = :id", use(id);
      *sql_ << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at, note) "
               "VALUES (:id, :q, 'cancelled', :a, NULL, :t, 'cancelled by operator')",
          use(id), use(queue), use(attempt), use(now_us);
      return cancel_result::cancelled;
    }
    int n = 0;
    *sql_ << "SELECT COUNT(*) FROM running WHERE id = :id", into(n), use(id);
    if (n) {
      *sql_ << "INSERT OR IGNORE INTO cancel_requests (job_id, requested_at) VALUES (:id, :t)",
          use(id), use(now_us);
      return cancel_result::requested;
    }
    *sql_ << "SELECT COUNT(*) FROM jobs WHERE id = :id", into(n), use(id);
    return n ? cancel_result::already_final : cancel_result::not_found;
  });
}

retry_result sqlite_store::retry_now(job_id id, time_point now) {
  return write("retry job now", false, [&] {
    long long now_us = to_us(now), run_at = 0;
    int attempt = 0, priority = 0;
    std::string queue;
    *sql_ << "SELECT queue, priority, run_at, attempt FROM ready WHERE id = :id", into(queue),
        into(priority), into(run_at), into(attempt), use(id);
    if (!sql_->got_data()) {
      int n = 0;
      *sql_ << "SELECT COUNT(*) FROM jobs WHERE id = :id", into(n), use(id);
      return n ? retry_result::not_waiting : retry_result::not_found;
    }
    if (run_at > now_us) {
      *sql_ << "DELETE FROM ready WHERE id = :id", use(id);
      *sql_ << "INSERT INTO ready (queue, priority, run_at, id, attempt) "
               "VALUES (:q, :p, :r, :id, :a)",
          use(queue), use(priority), use(now_us), use(id), use(attempt);
    }
    return retry_result::moved;
  });
}

namespace {

// The ids of the dead-lettered jobs an operator means.
std::vector<long long> dead_ids(soci::session& sql, const dead_filter& f) {
  std::string where = " WHERE 1 = 1";
  long long id_v = f.id.value_or(0), id = 0;
  std::string kind = f.kind.value_or(""), queue = f.queue.value_or("");
  if (f.id) where += " AND d.id = :id";
  if (f.kind) where += " AND j.kind = :kind";
  if (f.queue) where += " AND d.queue = :queue";
  soci::statement st(sql);
  st.alloc();
  st.prepare("SELECT d.id FROM dead_letter_jobs d JOIN jobs j ON j.id = d.id" + where);
  st.exchange(into(id));
  if (f.id) st.exchange(use(id_v));
  if (f.kind) st.exchange(use(kind));
  if (f.queue) st.exchange(use(queue));
  st.define_and_bind();
  st.execute();
  std::vector<long long> ids;
  while (st.fetch()) ids.push_back(id);
  return ids;
}

}  // namespace

std::int64_t sqlite_store::requeue_dead(const dead_filter& which, time_point now) {
  return write("requeue dead jobs", false, [&]() -> std::int64_t {
    long long now_us = to_us(now), id = 0;
    const auto ids = dead_ids(*sql_, which);
    soci::statement back = (sql_->prepare << "INSERT INTO ready (queue, priority, run_at, id, attempt) "
                                             "SELECT d.queue, j.priority, :now, d.id, 0 "
                                             "FROM dead_letter_jobs d JOIN jobs j ON j.id = d.id "
                                             "WHERE d.id = :id",
                            use(now_us), use(id));
    soci::statement drop = (sql_->prepare << "DELETE FROM dead_letter_jobs WHERE id = :id", use(id));
    for (auto i : ids) {
      id = i;
      back.execute(true);
      drop.execute(true);
    }
    return static_cast<std::int64_t>(ids.size());
  });
}

std::int64_t sqlite_store::purge_dead(const dead_filter& which) {
  return write("purge dead jobs", false, [&]() -> std::int64_t {
    long long id = 0;
    const auto ids = dead_ids(*sql_, which);
    std::vector<soci::statement> steps;
    for (auto sql : {"DELETE FROM job_errors WHERE job_id = :id",
                     "DELETE FROM unique_keys WHERE job_id = :id", "DELETE FROM jobs WHERE id = :id",
                     "DELETE FROM dead_letter_jobs WHERE id = :id"})
      steps.push_back((sql_->prepare << sql, use(id)));
    for (auto i : ids) {
      id = i;
      for (auto& st : steps) st.execute(true);
    }
    return static_cast<std::int64_t>(ids.size());
  });
}

}  // namespace spool::store
