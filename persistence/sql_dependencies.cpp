// Job dependencies, portable SQL over the concrete store's session: recording a new job's parents,
// settling pending jobs when their parents end, the leader's check of pending jobs, and parents'
// results. A pending job sits in `ready` with run_at = pending_run_at and `waiting` = parents not
// ended yet. On PostgreSQL every change to a pending job first locks its ready row, so that two
// transactions ending two of its parents count down one after the other.
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <set>

#include "persistence/job_counts.hpp"
#include "persistence/sql_store.hpp"
#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

// A parent's state as a dependant sees it: 0 completed (or pruned: it ended long ago), 1 not
// ended yet, 2 dead, 3 cancelled.
constexpr std::string_view parent_state_sql =
    "CASE WHEN j.id IS NULL OR f.state = 'completed' THEN 0 WHEN dl.id IS NOT NULL THEN 2 "
    "WHEN f.id IS NOT NULL THEN 3 ELSE 1 END";

std::string_view ended_name(int state) { return state == 2 ? "dead" : "cancelled"; }

}  // namespace

std::vector<jobs::new_job> sql_store::with_pending(std::span<const jobs::new_job> batch) {
  std::vector<jobs::new_job> out(batch.begin(), batch.end());
  for (auto& j : out)
    if (!j.depends_on.empty() || !j.needs.empty()) j.run_at = from_us(pending_run_at);
  return out;
}

namespace {

// Takes a pending job out of `ready` into `finished` as cancelled; false if it is not pending.
bool cancel_pending(soci::session& s, const dialect& d, job_id id, const std::string& note, long long now_us) {
  long long id_v = id;
  int attempt = 0;
  std::string queue;
  s << "DELETE FROM ready WHERE id = :id AND run_at = 9223372036854775807 RETURNING queue, attempt", into(queue),
      into(attempt), use(id_v);
  if (!s.got_data()) return false;
  s << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at, note) "
       "VALUES (:id, :q, 'cancelled', :a, NULL, :t, :n)",
      use(id_v), use(queue), use(attempt), use(now_us), use(note);
  count_deltas deltas;
  deltas.move(queue, waiting_state, "cancelled", 1);
  add_counts(s, d, deltas);
  return true;
}

// Makes a pending job due now; returns its queue, or "" if it is not pending.
std::string release_pending(soci::session& s, job_id id, long long now_us) {
  long long id_v = id;
  std::string queue;
  s << "UPDATE ready SET run_at = :now, waiting = NULL WHERE id = :id AND run_at = 9223372036854775807 RETURNING queue",
      into(queue), use(now_us), use(id_v);
  return s.got_data() ? queue : std::string();
}

}  // namespace

std::vector<std::string> sql_store::attach_dependencies(soci::session& s, std::span<const jobs::new_job> batch,
                                                        std::span<const insert_result> inserted,
                                                        time_point now) {
  std::vector<std::string> due;
  const bool pg = dialect_.backend == backend::postgresql;
  const std::string in = " IN (" + std::string(dialect_.id_list) + ")";
  const long long now_us = to_us(now);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& j = batch[i];
    if (j.depends_on.empty() && j.needs.empty()) continue;
    if (inserted[i].duplicate) continue;  // its key's holder was stored before: nothing new waits
    const long long child = inserted[i].id;
    std::set<std::int64_t> parents(j.depends_on.begin(), j.depends_on.end());
    for (auto k : j.needs) {
      if (k >= i)
        throw dependency_error("job " + std::to_string(i) + " of the batch needs job " + std::to_string(k) +
                               " of the batch, which does not come before it");
      parents.insert(inserted[k].id);
    }
    const std::vector<std::int64_t> list(parents.begin(), parents.end());
    const auto ids = id_array(list);
    if (pg) {
      // A parent waiting in `ready` is not claimed until this transaction has recorded the edge
      // (its claim skips the locked row), so its completion sees the edge. A running parent is
      // not locked: its round would wait for this transaction and then, reading the edges as of
      // its start, miss this one. Unlocked, only a round that started before this commit and
      // ends after this read misses it; the leader's settle_pending settles that dependant.
      long long locked = 0;
      soci::statement lock_ready = (s.prepare << "SELECT id FROM ready WHERE id" + in + " ORDER BY id FOR UPDATE",
                                    into(locked), use(ids));
      lock_ready.execute();
      while (lock_ready.fetch()) {
      }
    }
    long long parent = 0;
    int state = 0, found = 0, waiting = 0;
    std::optional<std::pair<long long, int>> failed;
    // The parents that exist, and where each is.
    std::set<std::int64_t> seen;
    soci::statement st = (s.prepare << "SELECT j.id, " + std::string(parent_state_sql) +
                                           " FROM jobs j LEFT JOIN finished f ON f.id = j.id LEFT JOIN "
                                           "dead_letter_jobs dl ON dl.id = j.id WHERE j.id" + in,
                          into(parent), into(state), use(ids));
    st.execute();
    while (st.fetch()) {
      seen.insert(parent);
      ++found;
      if (state == 1) ++waiting;
      if (state >= 2 && !failed) failed = {parent, state};
    }
    if (found != static_cast<int>(list.size())) {
      for (auto p : list)
        if (!seen.count(p))
          throw dependency_error("a job depends on job " + std::to_string(p) + ", which does not exist");
    }
    if (dialect_.backend == backend::sqlite)
      s << "INSERT INTO job_dependencies (parent_id, child_id) SELECT value, :c FROM json_each(:ids)",
          use(child), use(ids);
    else
      s << "INSERT INTO job_dependencies (parent_id, child_id) SELECT CAST(x AS bigint), CAST(:c AS bigint) "
           "FROM jsonb_array_elements_text(CAST(:ids AS jsonb)) x",
          use(child), use(ids);
    const bool run_anyway = j.on_parent_failure == jobs::parent_failure::run;
    // Set for every job with parents (0 cancel, 1 run): the claim reads from it that it has some.
    const int policy = run_anyway ? 1 : 0;
    s << "UPDATE jobs SET on_parent_failure = :f WHERE id = :c", use(policy), use(child);
    if (failed && !run_anyway) {
      cancel_pending(s, dialect_, child,
                     "dependency " + std::to_string(failed->first) + " ended " +
                         std::string(ended_name(failed->second)),
                     now_us);
    } else if (waiting == 0) {
      if (auto q = release_pending(s, child, now_us); !q.empty()) due.push_back(q);
    } else {
      long long left = waiting;
      s << "UPDATE ready SET waiting = :w WHERE id = :c", use(left), use(child);
    }
  }
  return due;
}

std::vector<std::string> sql_store::settle_dependants(soci::session& s,
                                                      std::vector<std::pair<job_id, jobs::state>> ended,
                                                      time_point now) {
  std::vector<std::string> due;
  const bool pg = dialect_.backend == backend::postgresql;
  const std::string in = " IN (" + std::string(dialect_.id_list) + ")";
  const long long now_us = to_us(now);
  // The common case, parents that all completed: each dependant counts them off in one statement
  // (after its row is locked, in id order, on PostgreSQL), and those left at zero become due.
  const bool all_completed = std::all_of(ended.begin(), ended.end(),
                                         [](const auto& e) { return e.second == jobs::state::completed; });
  if (all_completed && !ended.empty()) {
    std::vector<std::int64_t> list;
    for (auto& [id, _] : ended) list.push_back(id);
    const auto ids = id_array(list);
    // How many of these parents each dependant has: from the parents' side of the edges (their
    // key), never scanning a dependant's other edges (a fan-in's final step has thousands).
    std::vector<std::pair<long long, long long>> counts;
    {
      long long child = 0, n = 0;
      soci::statement st = (s.prepare << "SELECT child_id, COUNT(*) FROM job_dependencies WHERE parent_id" + in +
                                             " GROUP BY child_id ORDER BY child_id",
                            into(child), into(n), use(ids));
      st.execute();
      while (st.fetch()) counts.emplace_back(child, n);
    }
    // One statement each, in id order (the order of the row locks on PostgreSQL): counted off,
    // and due now when none is left.
    for (auto& [child, n] : counts) {
      std::string queue;
      long long run_at = 0;
      s << "UPDATE ready SET waiting = CASE WHEN waiting - :n1 <= 0 THEN NULL ELSE waiting - :n2 END, "
           "run_at = CASE WHEN waiting - :n3 <= 0 THEN :now ELSE run_at END "
           "WHERE id = :c AND run_at = 9223372036854775807 RETURNING queue, run_at",
          into(queue), into(run_at), use(n), use(n), use(n), use(now_us), use(child);
      if (s.got_data() && run_at != pending_run_at) due.push_back(queue);
    }
    return due;
  }
  while (!ended.empty()) {
    std::map<job_id, jobs::state> state_of(ended.begin(), ended.end());
    std::vector<std::int64_t> list;
    for (auto& [id, _] : state_of) list.push_back(id);
    ended.clear();
    // Each pending dependant and its parents among these.
    std::map<job_id, std::vector<job_id>> children;
    {
      const auto ids = id_array(list);
      long long child = 0, parent = 0;
      soci::statement st = (s.prepare << "SELECT child_id, parent_id FROM job_dependencies WHERE parent_id" + in,
                            into(child), into(parent), use(ids));
      st.execute();
      while (st.fetch()) children[child].push_back(parent);
    }
    for (auto& [child, parents] : children) {  // in id order: the order of the locks
      long long child_v = child, waiting = 0;
      int run_anyway = 0;
      soci::indicator waiting_i = soci::i_null, run_i = soci::i_null;
      std::string queue;
      s << "SELECT r.queue, r.waiting, j.on_parent_failure FROM ready r JOIN jobs j ON j.id = r.id "
           "WHERE r.id = :c AND r.run_at = 9223372036854775807" + std::string(pg ? " FOR UPDATE OF r" : ""),
          into(queue), into(waiting, waiting_i), into(run_anyway, run_i), use(child_v);
      if (!s.got_data()) continue;  // not pending: settled already, or cancelled
      std::optional<std::pair<job_id, jobs::state>> failed;
      for (auto p : parents)
        if (state_of[p] != jobs::state::completed && !failed) failed = {p, state_of[p]};
      if (failed && !(run_i == soci::i_ok && run_anyway == 1)) {
        if (cancel_pending(s, dialect_, child,
                           "dependency " + std::to_string(failed->first) + " ended " +
                               std::string(jobs::to_string(failed->second)),
                           now_us))
          ended.emplace_back(child, jobs::state::cancelled);  // its own dependants next
        continue;
      }
      const long long left = (waiting_i == soci::i_ok ? waiting : 0) - static_cast<long long>(parents.size());
      if (left <= 0) {
        if (auto q = release_pending(s, child, now_us); !q.empty()) due.push_back(q);
      } else {
        s << "UPDATE ready SET waiting = :w WHERE id = :c", use(left), use(child_v);
      }
    }
  }
  return due;
}

std::int64_t sql_store::settle_pending(time_point now, int limit) {
  return write("settle pending jobs", false, [&](soci::session& s) -> std::int64_t {
    const bool pg = dialect_.backend == backend::postgresql;
    const long long now_us = to_us(now);
    std::vector<long long> pending;
    {
      long long id = 0;
      soci::statement st = (s.prepare << "SELECT id FROM ready WHERE run_at = 9223372036854775807 ORDER BY id LIMIT :l",
                            into(id), use(limit));
      st.execute();
      while (st.fetch()) pending.push_back(id);
    }
    std::int64_t settled = 0;
    std::vector<std::pair<job_id, jobs::state>> cancelled;
    for (auto child : pending) {
      int run_anyway = 0;
      soci::indicator run_i = soci::i_null;
      std::string queue;
      s << "SELECT r.queue, j.on_parent_failure FROM ready r JOIN jobs j ON j.id = r.id "
           "WHERE r.id = :c AND r.run_at = 9223372036854775807" + std::string(pg ? " FOR UPDATE OF r" : ""),
          into(queue), into(run_anyway, run_i), use(child);
      if (!s.got_data()) continue;
      long long parent = 0;
      int state = 0;
      bool open = false;
      std::optional<std::pair<long long, int>> failed;
      soci::statement st = (s.prepare << "SELECT d.parent_id, " + std::string(parent_state_sql) +
                                             " FROM job_dependencies d LEFT JOIN jobs j ON j.id = d.parent_id "
                                             "LEFT JOIN finished f ON f.id = d.parent_id LEFT JOIN "
                                             "dead_letter_jobs dl ON dl.id = d.parent_id WHERE d.child_id = :c",
                            into(parent), into(state), use(child));
      st.execute();
      while (st.fetch()) {
        open |= state == 1;
        if (state >= 2 && !failed) failed = {parent, state};
      }
      if (open) continue;  // its parents' completions count it down
      if (failed && !(run_i == soci::i_ok && run_anyway == 1)) {
        if (cancel_pending(s, dialect_, child,
                           "dependency " + std::to_string(failed->first) + " ended " +
                               std::string(ended_name(failed->second)),
                           now_us)) {
          cancelled.emplace_back(child, jobs::state::cancelled);
          ++settled;
        }
      } else if (!release_pending(s, child, now_us).empty()) {
        ++settled;
      }
    }
    if (!cancelled.empty()) settle_dependants(s, std::move(cancelled), now);
    return settled;
  });
}

std::vector<parent_result> sql_store::parent_results(job_id child) {
  return call("read parents' results", [&](soci::session& s) {
    std::vector<parent_result> out;
    long long id = 0, child_v = child;
    std::string result;
    soci::indicator result_i = soci::i_null;
    soci::statement st = (s.prepare << "SELECT d.parent_id, CAST(r.result AS TEXT) FROM job_dependencies d "
                                       "LEFT JOIN job_results r ON r.job_id = d.parent_id "
                                       "WHERE d.child_id = :c ORDER BY d.parent_id",
                          into(id), into(result, result_i), use(child_v));
    st.execute();
    while (st.fetch()) {
      parent_result p{id, std::nullopt};
      if (result_i == soci::i_ok) p.result = result;
      out.push_back(std::move(p));
    }
    return out;
  });
}

}  // namespace spool::store
