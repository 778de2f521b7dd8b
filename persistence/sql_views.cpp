// The skeleton's operator views: one job, a filtered page of jobs, and the counts by state
// (from job_counts, see job_counts.hpp).
// A job's state follows from the one table that holds it.
#include <soci/soci.h>

#include <map>

#include "persistence/job_counts.hpp"
#include "persistence/sql_store.hpp"
#include "persistence/sql_transaction.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

constexpr std::string_view select_job_sql = R"sql(
SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.max_attempts, j.unique_key, j.created_at,
  CASE WHEN r.id IS NOT NULL THEN 'running'
       WHEN f.id IS NOT NULL THEN f.state
       WHEN d.id IS NOT NULL THEN 'dead'
       WHEN q.run_at = 9223372036854775807 THEN 'pending'
       WHEN q.run_at <= :now THEN 'available'
       WHEN q.attempt = 0 THEN 'scheduled'
       ELSE 'retrying' END,
  COALESCE(r.attempt, f.attempt, d.attempt, q.attempt, 0),
  q.run_at,
  COALESCE(r.attempted_at, f.attempted_at, d.attempted_at),
  COALESCE(f.finalized_at, d.dead_at),
  l.lease_until, COALESCE(l.worker, f.node),
  COALESCE(f.note, d.last_error, ''),
  r.progress, r.progress_note, r.progress_at
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
    case state::scheduled: return " AND q.run_at > :now2 AND q.run_at < 9223372036854775807 AND q.attempt = 0";
    case state::retrying: return " AND q.run_at > :now2 AND q.run_at < 9223372036854775807 AND q.attempt > 0";
    case state::pending: return " AND q.run_at = 9223372036854775807";
  }
  return "";
}

// '%text%' for LIKE ... ESCAPE '\', lowercased as the column is (LOWER works on ASCII on both
// dialects' defaults), with the pattern's own wildcards escaped.
std::string like_pattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out + "%";
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
  std::string key_f = filter.unique_key.value_or("");
  auto us = [](const std::optional<time_point>& t) { return t ? to_us(*t) : 0LL; };
  long long c_after = us(filter.created_after), c_before = us(filter.created_before);
  long long f_after = us(filter.finished_after), f_before = us(filter.finished_before);
  std::string err_f = filter.error_contains ? like_pattern(*filter.error_contains) : "";
  soci::indicator key_i, run_i, att_i, fin_i, lease_i, worker_i, prog_i, prog_note_i, prog_at_i;
  double progress = 0;
  std::string progress_note;
  long long progress_at = 0;

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
  st.exchange(into(progress, prog_i));
  st.exchange(into(progress_note, prog_note_i));
  st.exchange(into(progress_at, prog_at_i));
  // Binds in the order their placeholders appear in `where`.
  st.exchange(use(now_us));
  if (id) st.exchange(use(id_v));
  if (filter.state && state_condition(*filter.state).find(":now2") != std::string_view::npos)
    st.exchange(use(now_us));
  if (filter.kind) st.exchange(use(kind_f));
  if (filter.queue) st.exchange(use(queue_f));
  if (filter.unique_key) st.exchange(use(key_f));
  if (filter.created_after) st.exchange(use(c_after));
  if (filter.created_before) st.exchange(use(c_before));
  if (filter.finished_after) st.exchange(use(f_after));
  if (filter.finished_before) st.exchange(use(f_before));
  if (filter.error_contains) {
    st.exchange(use(err_f));
    st.exchange(use(err_f));
  }
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
    j.run_at = j.st == jobs::state::pending ? std::nullopt : opt_time(run_at, run_i);
    j.attempted_at = opt_time(attempted, att_i);
    j.finalized_at = opt_time(finalized, fin_i);
    j.lease_until = opt_time(lease_until, lease_i);
    if (worker_i == soci::i_ok) j.worker = worker;
    j.note = note;
    if (prog_i == soci::i_ok && prog_at_i == soci::i_ok)
      j.progress = jobs::progress{progress, prog_note_i == soci::i_ok ? progress_note : "",
                                  from_us(progress_at)};
    out.push_back(std::move(j));
  }
  return out;
}

// The error histories, results and parents of listed jobs, read in chunks of ids: a few
// statements for a page, never one per job. Only a job that has run can have errors or a result.
void add_histories(soci::session& s, std::vector<jobs::job>& jobs) {
  constexpr std::size_t chunk = 500;
  for (std::size_t from = 0; from < jobs.size(); from += chunk) {
    std::map<job_id, jobs::job*> page;
    std::string ids;
    for (std::size_t i = from; i < std::min(jobs.size(), from + chunk); ++i) {
      page[jobs[i].id] = &jobs[i];
      ids += (ids.empty() ? "" : ",") + std::to_string(jobs[i].id);
    }
    long long child = 0, parent = 0;
    soci::statement parents = (s.prepare << "SELECT child_id, parent_id FROM job_dependencies WHERE child_id IN (" +
                                                ids + ") ORDER BY child_id, parent_id",
                               soci::into(child), soci::into(parent));
    parents.execute();
    while (parents.fetch()) page.at(child)->depends_on.push_back(parent);
  }
  std::map<job_id, jobs::job*> by_id;
  for (auto& j : jobs)
    if (j.attempt > 0) by_id[j.id] = &j;
  for (auto it = by_id.begin(); it != by_id.end();) {
    std::string ids;
    for (std::size_t n = 0; n < chunk && it != by_id.end(); ++n, ++it)
      ids += (ids.empty() ? "" : ",") + std::to_string(it->first);
    long long e_job = 0, at = 0, started = 0;
    jobs::error_entry e;
    std::string node;
    soci::indicator started_i = soci::i_null, node_i = soci::i_null;
    soci::statement errors = (s.prepare << "SELECT job_id, attempt, at, message, started_at, node "
                                           "FROM job_errors WHERE job_id IN (" + ids + ") ORDER BY job_id, seq",
                              soci::into(e_job), soci::into(e.attempt), soci::into(at),
                              soci::into(e.message), soci::into(started, started_i),
                              soci::into(node, node_i));
    errors.execute();
    while (errors.fetch()) {
      e.at = from_us(at);
      e.started_at = opt_time(started, started_i);
      e.node = node_i == soci::i_ok ? node : "";
      by_id.at(e_job)->errors.push_back(e);
    }
    long long r_job = 0;
    std::string result;
    soci::statement results = (s.prepare << "SELECT job_id, CAST(result AS TEXT) FROM job_results "
                                            "WHERE job_id IN (" + ids + ")",
                               soci::into(r_job), soci::into(result));
    results.execute();
    while (results.fetch()) by_id.at(r_job)->result = result;
  }
}

}  // namespace

std::optional<jobs::job> sql_store::get(job_id id, time_point now) {
  return call("read job", [&](soci::session& s) -> std::optional<jobs::job> {
    // One snapshot: a job pruned meanwhile is read whole or not at all.
    sql::transaction tx(s, std::string(dialect_.begin_read));
    auto found = select_jobs(s, " AND j.id = :id", {}, id, now);
    if (found.empty()) return std::nullopt;
    auto& j = found.front();
    jobs::error_entry e;
    long long at = 0, started = 0, id_v = id;
    std::string node;
    soci::indicator started_i = soci::i_null, node_i = soci::i_null;
    soci::statement st = (s.prepare << "SELECT attempt, at, message, started_at, node FROM job_errors "
                                       "WHERE job_id = :id ORDER BY seq",
                          into(e.attempt), into(at), into(e.message), into(started, started_i),
                          into(node, node_i), use(id_v));
    st.execute();
    while (st.fetch()) {
      e.at = from_us(at);
      e.started_at = opt_time(started, started_i);
      e.node = node_i == soci::i_ok ? node : "";
      j.errors.push_back(e);
    }
    std::string result;
    soci::indicator result_i = soci::i_null;
    s << "SELECT CAST(result AS TEXT) FROM job_results WHERE job_id = :id", into(result, result_i), use(id_v);
    if (s.got_data() && result_i == soci::i_ok) j.result = std::move(result);
    long long parent = 0;
    soci::statement parents = (s.prepare << "SELECT parent_id FROM job_dependencies WHERE child_id = :id "
                                            "ORDER BY parent_id",
                               into(parent), use(id_v));
    parents.execute();
    while (parents.fetch()) j.depends_on.push_back(parent);
    tx.commit();
    return std::move(j);
  });
}

std::vector<jobs::job> sql_store::list(const list_filter& filter, time_point now) {
  std::string where;
  if (filter.state) where += state_condition(*filter.state);
  if (filter.kind) where += " AND j.kind = :kind";
  if (filter.queue) where += " AND j.queue = :queue";
  if (filter.unique_key) where += " AND j.unique_key = :ukey";
  if (filter.created_after) where += " AND j.created_at >= :cafter";
  if (filter.created_before) where += " AND j.created_at < :cbefore";
  if (filter.finished_after) where += " AND COALESCE(f.finalized_at, d.dead_at) >= :fafter";
  if (filter.finished_before) where += " AND COALESCE(f.finalized_at, d.dead_at) < :fbefore";
  if (filter.error_contains)
    where += " AND (LOWER(COALESCE(f.note, d.last_error, '')) LIKE :err1 ESCAPE '\\' OR EXISTS (SELECT 1 "
             "FROM job_errors e WHERE e.job_id = j.id AND LOWER(e.message) LIKE :err2 ESCAPE '\\'))";
  if (filter.before) where += " AND j.id < :before";
  where += " ORDER BY j.id DESC LIMIT :limit";
  return call("list jobs", [&](soci::session& s) {
    auto jobs = select_jobs(s, where, filter, std::nullopt, now);
    add_histories(s, jobs);
    return jobs;
  });
}

stats sql_store::count(time_point now) {
  return call("count jobs", [&](soci::session& s) {
    // One snapshot: the stored counts and the split of the waiting jobs must agree.
    sql::transaction tx(s, std::string(dialect_.begin_read));
    auto out = read_counts(s, now);
    tx.commit();
    return out;
  });
}

}  // namespace spool::store
