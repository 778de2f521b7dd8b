#include "persistence/pg_store.hpp"

#include <soci/soci.h>

#include <limits>
#include <set>
#include <unordered_set>

#include "persistence/backends.hpp"
#include "persistence/pg_insert.hpp"
#include "persistence/sql_transaction.hpp"
#include "persistence/sql_values.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {

// Held while migrating, so that nodes starting together migrate once ("spool" in ASCII).
constexpr long long migration_lock = 0x73706f6f6cLL;

// Every connection commits with synchronous_commit off (open_session): a claim or a completion
// lost to a server crash only means a rerun, so it need not wait for the disk. A durable write
// (an enqueue, an operator's action) asks for the disk in its transaction.
struct pg_transaction : sql::transaction {
  pg_transaction(soci::session& s, bool durable)
      : sql::transaction(s, std::string(postgres_dialect.begin_write)) {
    if (durable) s << "SET LOCAL synchronous_commit = on";
  }
};

}  // namespace

// The hot-path statements, prepared once per connection, and the variables they bind.
struct pg_store::statements {
  explicit statements(soci::session& sql) : sql(sql) {}
  soci::session& sql;

  pg_insert insert{sql};  // enqueue (and notify)

  // claim and complete: a producer's round in one statement, so one round trip and, outside a
  // transaction block, one commit. The completions are fenced by (id, lease); leases left
  // without running jobs go; then the claim, with rows locked by another node skipped, not
  // waited for. All parts see the same snapshot: a job retried here is claimed by a later
  // round, and the rows `gone` deletes are still visible to the lease check, which leaves out
  // just those (not every id of the batch: a stale completion's job may run under a lease of
  // this batch again). Running jobs and leases are found by id arrays, so that the plan can look them up
  // by index instead of joining whole tables. The claim walks the queue's priority levels (a
  // recursive index skip over `ready`), and within a level scans only the due head of the key:
  // scheduled jobs behind it are never read.
  // Rows: 'a' for each applied completion (id), 'c' for each claimed job.
  std::string queue, worker, payload, kind, batch_json, lease_ids, what, id_array, lease_array;
  long long now = 0, lease_until = 0, c_id = 0, c_due = 0, c_lease = 0, c_created = 0, done_at = 0, c_snoozed = 0;
  int limit = 0, c_priority = 0, c_attempt = 0, c_max = 0, c_dependants = 0, c_parents = 0, c_snoozes = 0;
  soci::statement round{
      (sql.prepare << "WITH input AS (SELECT DISTINCT ON (id, lease) * FROM (SELECT "
                      "CAST(v->>0 AS bigint) AS id, CAST(v->>1 AS bigint) AS lease, "
                      "CAST(v->>2 AS integer) AS next, CAST(v->>3 AS integer) AS attempt, "
                      "CAST(v->>4 AS bigint) AS at, CAST(v->>5 AS bigint) AS run_at, v->>6 AS note, "
                      "CAST(v->>7 AS integer) AS err_attempt, CAST(v->>8 AS bigint) AS err_at, "
                      "v->>9 AS err_msg, v->10 AS result FROM jsonb_array_elements(CAST(:b AS jsonb)) v) t), "
                      "gone AS (DELETE FROM running r USING input i WHERE r.id = ANY(CAST(:ids AS bigint[])) "
                      "AND r.id = i.id AND r.lease_id = i.lease RETURNING r.id, r.lease_id, r.queue, "
                      "r.priority, r.attempted_at), "
                      "app AS (SELECT i.*, g.queue, g.priority, g.attempted_at FROM input i "
                      "JOIN gone g ON g.id = i.id AND g.lease_id = i.lease), "
                      // The lease is read before `emptied` deletes it: one snapshot for all parts.
                      "errs AS (INSERT INTO job_errors (job_id, seq, attempt, at, message, started_at, "
                      "node) SELECT a.id, COALESCE((SELECT MAX(seq) FROM job_errors e "
                      "WHERE e.job_id = a.id), 0) + 1, a.err_attempt, a.err_at, a.err_msg, a.attempted_at, "
                      "(SELECT l.worker FROM leases l WHERE l.id = a.lease) FROM app a "
                      "WHERE a.err_msg IS NOT NULL), "
                      "fin AS (INSERT INTO finished (id, queue, state, attempt, attempted_at, "
                      "finalized_at, note, node) SELECT a.id, a.queue, CASE a.next WHEN 0 THEN "
                      "'completed' ELSE 'cancelled' END, a.attempt, a.attempted_at, a.at, "
                      "NULLIF(a.note, ''), (SELECT l.worker FROM leases l WHERE l.id = a.lease) "
                      "FROM app a WHERE a.next IN (0, 3)), "
                      // A job run again by an operator replaces its earlier result.
                      "res AS (INSERT INTO job_results (job_id, result) SELECT a.id, a.result FROM app a "
                      "WHERE a.next = 0 AND a.result IS NOT NULL ON CONFLICT (job_id) DO UPDATE SET "
                      "result = excluded.result), "
                      "back AS (INSERT INTO ready (queue, priority, run_at, id, attempt) "
                      "SELECT a.queue, a.priority, a.run_at, a.id, a.attempt FROM app a "
                      "WHERE a.next IN (1, 4)), "
                      "dead AS (INSERT INTO dead_letter_jobs (id, queue, attempt, attempted_at, "
                      "dead_at, last_error) SELECT a.id, a.queue, a.attempt, a.attempted_at, a.at, "
                      "COALESCE(a.note, '') FROM app a WHERE a.next = 2), "
                      "emptied AS (DELETE FROM leases l WHERE l.id = ANY(CAST(:leases AS bigint[])) "
                      "AND l.id IN (SELECT lease_id FROM gone) AND NOT EXISTS (SELECT 1 FROM running r "
                      "WHERE r.lease_id = l.id AND r.id NOT IN (SELECT id FROM gone))), "
                      "levels AS (SELECT p FROM (WITH RECURSIVE l(p) AS ((SELECT priority FROM ready "
                      "WHERE queue = :q ORDER BY priority LIMIT 1) UNION ALL SELECT (SELECT r.priority "
                      "FROM ready r WHERE r.queue = :q2 AND r.priority > l.p ORDER BY r.priority LIMIT 1) "
                      "FROM l WHERE l.p IS NOT NULL) SELECT p FROM l) w WHERE p IS NOT NULL), "
                      "picked AS (DELETE FROM ready WHERE id IN (SELECT d.id FROM levels v CROSS JOIN "
                      "LATERAL (SELECT id FROM ready WHERE queue = :q3 AND priority = v.p "
                      "AND run_at <= :now ORDER BY run_at, id LIMIT :lim FOR UPDATE SKIP LOCKED) d "
                      "LIMIT :lim2) RETURNING id, queue, priority, run_at, attempt), "
                      "lease AS (INSERT INTO leases (worker, lease_until) SELECT CAST(:w AS text), "
                      "CAST(:u AS bigint) WHERE EXISTS (SELECT 1 FROM picked) RETURNING id), "
                      "moved AS (INSERT INTO running (id, queue, priority, attempt, lease_id, "
                      "attempted_at, due_at) SELECT p.id, p.queue, p.priority, p.attempt + 1, l.id, "
                      "CAST(:now2 AS bigint), p.run_at FROM picked p CROSS JOIN lease l "
                      "RETURNING id, priority, attempt, due_at, lease_id), "
                      // Pending dependants of the jobs completed here count them off, and become
                      // due when none is left, in this statement: the row lock (taken in id order)
                      // makes concurrent rounds count one after the other. A parent that ended dead
                      // or cancelled is settled by settle_dependants (its 'a' row says so).
                      "dec AS (UPDATE ready r SET waiting = CASE WHEN r.waiting - x.n <= 0 THEN NULL "
                      "ELSE r.waiting - x.n END, run_at = CASE WHEN r.waiting - x.n <= 0 THEN "
                      "CAST(:done_at AS bigint) ELSE r.run_at END FROM (SELECT d.child_id, COUNT(*) AS n "
                      "FROM job_dependencies d JOIN app a ON a.id = d.parent_id WHERE a.next = 0 "
                      // Looked for only while some job is pending at all (one probe of an index
                      // that is empty then): rounds pay nothing where nobody waits.
                      "AND EXISTS (SELECT 1 FROM ready WHERE run_at = 9223372036854775807) "
                      "GROUP BY d.child_id ORDER BY d.child_id) x WHERE r.id = x.child_id "
                      "AND r.run_at = 9223372036854775807 RETURNING r.id, r.queue, r.run_at), "
                      // The round's changes to job_counts, one row per queue and state, in key
                      // order (see job_counts.hpp).
                      "counted AS (INSERT INTO job_counts (queue, state, shard, n) SELECT queue, "
                      "state, pg_backend_pid() % 16, SUM(d) FROM (SELECT a.queue, 'running' AS state, "
                      "-1 AS d FROM app a UNION ALL SELECT a.queue, CASE a.next WHEN 0 THEN "
                      "'completed' WHEN 2 THEN 'dead' WHEN 3 THEN 'cancelled' ELSE 'waiting' END, 1 "
                      "FROM app a UNION ALL SELECT p.queue, 'waiting', -1 FROM picked p "
                      "UNION ALL SELECT p.queue, 'running', 1 FROM picked p) t GROUP BY queue, state "
                      "HAVING SUM(d) <> 0 ORDER BY queue, state ON CONFLICT (queue, state, shard) "
                      "DO UPDATE SET n = job_counts.n + excluded.n) "
                      // Claimed jobs say whether they had parents;
                      // applied completions that ended a job dead or cancelled, whether it has
                      // dependants (one probe each); 'r' rows name dependants made due.
                      "SELECT 'c' AS what, m.id, m.priority, m.attempt, m.due_at, m.lease_id, j.kind, "
                      "j.payload, j.max_attempts, j.created_at, 0, "
                      "CASE WHEN j.on_parent_failure IS NULL THEN 0 ELSE 1 END, j.snoozes, j.snoozed_us "
                      "FROM moved m JOIN jobs j ON j.id = m.id "
                      "UNION ALL SELECT 'a', a.id, 0, 0, 0, 0, '', '', 0, 0, CASE WHEN a.next IN (2, 3) "
                      "AND EXISTS (SELECT 1 FROM job_dependencies d WHERE d.parent_id = a.id) THEN 1 ELSE 0 END, 0, 0, 0 "
                      "FROM app a UNION ALL SELECT 'r', d.id, 0, 0, 0, 0, d.queue, '', 0, 0, 0, 0, 0, 0 FROM dec d "
                      "WHERE d.run_at <> 9223372036854775807 ORDER BY 1, 3, 5, 2",
       into(what), into(c_id), into(c_priority), into(c_attempt), into(c_due), into(c_lease),
       into(kind), into(payload), into(c_max), into(c_created), into(c_dependants), into(c_parents),
       into(c_snoozes), into(c_snoozed), use(batch_json), use(id_array),
       use(lease_array), use(queue), use(queue), use(queue), use(now), use(limit),
       use(limit), use(worker),
       use(lease_until), use(now), use(done_at))};
  soci::statement renew{
      (sql.prepare << "UPDATE leases SET lease_until = :u WHERE id IN (SELECT CAST("
                      "jsonb_array_elements_text(CAST(:ids AS jsonb)) AS bigint))",
       use(lease_until), use(lease_ids))};
};

void pg_store::run(const char* op, const session_work& work) {
  try {
    ready();
    work(*sql_);
  } catch (const std::exception& e) {
    forget_dead_connection();
    if (dynamic_cast<const store_error*>(&e)) throw;
    throw store_error(std::string(op) + " failed on '" + where_.shown + "': " + e.what());
  }
}

void pg_store::run_write(const char* op, bool durable, const session_work& work) {
  run(op, [&](soci::session& s) {
    pg_transaction tx(s, durable);
    work(s);
    tx.commit();
  });
}

pg_store::pg_store(const location& where, const open_options& options)
    : sql_store(postgres_dialect, options.schemas), where_(where),
      relaxed_enqueue_(options.relaxed_enqueue) {
  migrate_on_use_ = options.migrate_on_use;
  connect();
}

pg_store::~pg_store() = default;

void pg_store::connect() {
  st_.reset();
  sql_.reset();
  try {
    sql_ = open_session(where_, "spool");
    // A claim must not hang on the table's statistics: right after a bulk enqueue, before
    // autovacuum analyzes `ready`, the planner guessed a handful of due rows and chose a bitmap
    // scan and sort of the whole priority level (1,000,000 rows: 414 ms a claim) over the ordered
    // index scan that stops at the limit (0.9 ms). The other statements of this connection look
    // rows up by key and do not need bitmap scans.
    *sql_ << "SET enable_bitmapscan = off";
  } catch (const std::exception& e) {
    sql_.reset();
    throw store_error("cannot connect to '" + where_.shown + "': " + e.what());
  }
}

void pg_store::ready() {
  if (!sql_) connect();  // reopens a connection lost earlier
  if (!migrated_ && !migrate_on_use_) {
    require_migrated(*sql_, where_.shown);
    migrated_ = true;
  }
  if (!migrated_) migrate();
  if (!st_) st_ = std::make_unique<statements>(*sql_);
}

void pg_store::forget_dead_connection() {
  // A dead connection is dropped: the next call reconnects, and prepares its statements again.
  if (sql_ && session_lost(*sql_)) {
    st_.reset();
    sql_.reset();
  }
}

int pg_store::migrate() {
  if (!sql_) connect();
  auto& session = *sql_;
  try {
    session << "SELECT pg_advisory_lock(:k)", use(migration_lock);
    struct unlock {
      soci::session& sql;
      ~unlock() {
        try {
          sql << "SELECT pg_advisory_unlock(:k)", use(migration_lock);
        } catch (...) {  // a lost connection released it already
        }
      }
    } unlock_on_exit{session};
    const int applied = apply_migrations(session);
    migrated_ = true;
    return applied;
  } catch (const std::exception& e) {
    throw store_error("migrating '" + where_.shown + "' failed: " + e.what());
  }
}

insert_and_claim_result pg_store::insert_and_claim(std::span<const jobs::new_job> batch,
                                                   time_point now,
                                                   std::span<const claim_request> claims) {
  return write("enqueue", !relaxed_enqueue_, [&](soci::session&) {
    insert_and_claim_result r;
    if (!batch.empty()) r.inserted = insert_rows(batch, now);
    for (const auto& c : claims) r.claimed.push_back(claim_in_transaction(c));
    return r;
  });
}

std::vector<insert_result> pg_store::insert_in_transaction(std::span<const jobs::new_job> batch,
                                                         time_point now) {
  return insert_rows(batch, now);
}

std::vector<insert_result> pg_store::insert_rows(std::span<const jobs::new_job> batch, time_point now) {
  if (!any_dependencies(batch)) return st_->insert.rows(batch, now);
  const auto stored = with_pending(batch);
  auto inserted = st_->insert.rows(stored, now);
  for (const auto& q : attach_dependencies(*sql_, batch, inserted, now)) st_->insert.notify(q);
  return inserted;
}

round_result pg_store::complete_and_claim(std::span<const jobs::completion> done,
                                          const claim_request& next) {
  if (done.empty() && next.limit <= 0 && !next.want_next_due) return {};
  const char* what = next.limit > 0 ? "claim" : "complete";
  const bool any_follow_up = std::any_of(done.begin(), done.end(),
                                         [](const jobs::completion& c) { return !c.follow_ups.empty(); });
  const bool snoozes = any_snooze(done);
  // A claim under limits runs in a transaction: the limits' locks come first (limits_cannot_bind).
  const bool limited = next.limit > 0 && !next.limits.empty();
  // Jobs that ended dead or cancelled with dependants waiting: found by the round statement.
  std::vector<job_id> failed_parents;
  auto round = [&](soci::session& s) {
    round_result r;
    // The snoozed jobs are back in `ready`, but no other node sees them before this commits,
    // and this round's own claim (one snapshot with the completions) does not take them.
    if (!any_follow_up) {
      // Under limits that cannot bind, the round statement claims as it does without them (after
      // the limits' locks); else it completes, and the claim under limits follows.
      const bool plain = !limited || limits_cannot_bind(s, next);
      r = run_round(done, plain ? next : claim_request{}, &failed_parents);
      if (!plain) {
        auto taken = take_limited(s, next, &r.held_back);
        r.claimed = taken ? std::move(*taken) : run_round({}, next).claimed;
      }
      if (snoozes) record_snoozes(s, done, r.stale);
    } else {  // completions, their follow-ups, then the claim (which may take those)
      r = run_round(done, {}, &failed_parents);
      if (snoozes) record_snoozes(s, done, r.stale);
      if (!failed_parents.empty()) {
        auto more = settle_dependants(s, failed_ended(done, r.stale, failed_parents), latest_at(done));
        r.released.insert(r.released.end(), more.begin(), more.end());
        failed_parents.clear();
      }
      if (auto follow = accepted_follow_ups(done, r.stale); !follow.empty())
        r.follow_ups = insert_rows(follow, latest_at(done));
      r.claimed = claim_in_transaction(next, &r.held_back);
    }
    if (next.want_next_due) r.next_due = find_next_due(next.queue, next.now);
    return r;
  };
  // Without follow-ups or snoozes no transaction: the round statement commits by itself,
  // dependants of the completed jobs counted down in it. With them, one transaction holds the
  // completions, what comes with those it applied and the claim.
  auto r = any_follow_up || snoozes || limited ? write(what, false, round) : call(what, round);
  if (!failed_parents.empty()) {
    // Dependants of a job that ended dead or cancelled (rare): cancelled, or counted down for
    // on_parent_failure run, right after the round; were the process to die in between, the
    // leader's settle_pending does it.
    auto released = write("settle dependants", false, [&](soci::session& s) {
      return settle_dependants(s, failed_ended(done, r.stale, failed_parents), latest_at(done));
    });
    for (const auto& q : released) st_->insert.notify(q);
    r.released.insert(r.released.end(), released.begin(), released.end());
  }
  return r;
}

std::vector<std::pair<job_id, jobs::state>> pg_store::failed_ended(std::span<const jobs::completion> done,
                                                                   std::span<const job_id> stale,
                                                                   std::span<const job_id> parents) {
  std::vector<std::pair<job_id, jobs::state>> out;
  for (auto& e : ended_jobs(done, stale))
    if (std::find(parents.begin(), parents.end(), e.first) != parents.end()) out.push_back(e);
  return out;
}

std::vector<jobs::claimed_job> pg_store::claim_in_transaction(const claim_request& next, bool* held_back) {
  if (!next.limits.empty() && !limits_cannot_bind(*sql_, next))
    if (auto limited = take_limited(*sql_, next, held_back)) return std::move(*limited);
  return run_round({}, next).claimed;
}

// The round statement: on its own it commits by itself; inside a transaction, with it.
round_result pg_store::run_round(std::span<const jobs::completion> done, const claim_request& next,
                                 std::vector<job_id>* parents) {
  round_result r;
  if (done.empty() && next.limit <= 0) return r;
  auto& s = *st_;
  s.batch_json = completions_json(done, false);
  std::set<lease_id> leases;
  std::vector<job_id> ids;
  for (const auto& c : done) {
    ids.push_back(c.id);
    leases.insert(c.lease);
  }
  s.id_array = id_array(ids, id_notation::postgres_array);
  s.lease_array = id_array(std::vector<lease_id>(leases.begin(), leases.end()),
                           id_notation::postgres_array);
  s.queue = next.queue;
  s.now = to_us(next.now);
  s.limit = std::max(0, next.limit);
  s.worker = next.worker;
  s.lease_until = to_us(next.lease_until);
  s.done_at = to_us(latest_at(done));
  std::unordered_set<job_id> applied;
  s.round.execute(false);
  while (s.round.fetch()) {
    if (s.what == "a") {
      applied.insert(s.c_id);
      if (parents && s.c_dependants) parents->push_back(s.c_id);
      continue;
    }
    if (s.what == "r") {  // a dependant made due: its queue (in the kind column)
      r.released.push_back(s.kind);
      continue;
    }
    jobs::claimed_job c;
    c.id = s.c_id;
    c.kind = s.kind;
    c.queue = next.queue;
    c.payload = s.payload;
    c.priority = s.c_priority;
    c.attempt = s.c_attempt;
    c.max_attempts = s.c_max;
    c.run_at = from_us(s.c_due);
    c.created_at = from_us(s.c_created);
    c.lease = s.c_lease;
    c.has_parents = s.c_parents != 0;
    c.snoozes = s.c_snoozes;
    c.snoozed_for = jobs::duration(s.c_snoozed);
    r.claimed.push_back(std::move(c));
  }
  for (const auto& c : done)
    if (!applied.count(c.id)) r.stale.push_back(c.id);
  return r;
}

void pg_store::renew(std::span<const lease_id> leases, time_point until) {
  if (leases.empty()) return;
  write("renew leases", false, [&](soci::session&) {
    st_->lease_until = to_us(until);
    st_->lease_ids = id_array(leases);
    st_->renew.execute(true);
  });
}

void pg_store::notify(const std::string& payload) {
  call("notify", [&](soci::session&) {
    st_->insert.notify(payload);
  });
}

std::optional<time_point> pg_store::next_due(const std::string& queue, time_point now) {
  return call("find next due job", [&](soci::session&) { return find_next_due(queue, now); });
}

std::optional<time_point> pg_store::find_next_due(const std::string& queue, time_point now) {
  // One index seek per priority level: a plain MIN(run_at) over the queue would read every row.
  auto& s = *sql_;
  long long after = std::numeric_limits<long long>::min(), level = 0, at = 0, now_us = to_us(now);
  std::optional<long long> earliest;
  for (;; after = level) {
    soci::indicator ind = soci::i_null;
    s << "SELECT MIN(priority) FROM ready WHERE queue = :q AND priority > CAST(:p AS BIGINT)",
        into(level, ind), use(queue), use(after);
    if (ind != soci::i_ok) break;
    s << "SELECT MIN(run_at) FROM ready WHERE queue = :q AND priority = :p AND run_at > :n "
         "AND run_at < 9223372036854775807",
        into(at, ind), use(queue), use(level), use(now_us);
    if (ind == soci::i_ok && (!earliest || at < *earliest)) earliest = at;
  }
  if (!earliest) return std::nullopt;
  return from_us(*earliest);
}

std::unique_ptr<store> open_postgres(const location& where, const open_options& options) {
  return std::make_unique<pg_store>(where, options);
}

}  // namespace spool::store
