#include "persistence/sqlite_store.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_set>

#include "persistence/backends.hpp"
#include "persistence/job_counts.hpp"
#include "persistence/sql_values.hpp"
#include "persistence/sqlite_insert.hpp"
#include "persistence/sqlite_statement.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

// The hot-path statements, prepared once on the store's connection (SQLite's C API; see
// sqlite_statement.hpp). Parameters are numbered; a value used twice is bound once (?1 ... ?1).
struct sqlite_store::statements {
  explicit statements(sqlite_api::sqlite3* db) : db(db) {}
  sqlite_api::sqlite3* db;
  long long last_id() const { return sqlite_api::sqlite3_last_insert_rowid(db); }

  // claim. It walks the queue one priority level at a time: within a level due jobs come first
  // in key order, so each level's scan stops at its first job not yet due instead of reading
  // every scheduled job behind it.
  sqlite_statement next_level{db, "SELECT MIN(priority) FROM ready WHERE queue = ?1 AND priority > ?2"};
  sqlite_statement level_next_due{db,
                                  "SELECT MIN(run_at) FROM ready WHERE queue = ?1 AND priority = ?2 "
                                  "AND run_at > ?3 AND run_at < 9223372036854775807"};
  // The level's due jobs in claim order with what a handler needs: the head of the ready key,
  // read in key order. The last row read bounds the range the next two statements move.
  sqlite_statement read_due{db,
                            "SELECT r.id, r.run_at, r.attempt, j.kind, j.payload, j.max_attempts, "
                            "j.created_at, j.snoozes, j.snoozed_us, j.on_parent_failure IS NOT NULL "
                            "FROM ready r JOIN jobs j ON j.id = r.id WHERE r.queue = ?1 "
                            "AND r.priority = ?2 AND r.run_at <= ?3 ORDER BY r.run_at, r.id LIMIT ?4"};
  sqlite_statement insert_lease{db,
                                "INSERT INTO leases (worker, lease_until, remaining) "
                                "VALUES (?1, ?2, 0)"};
  sqlite_statement take_range{db,
                              "INSERT INTO running (id, queue, priority, attempt, lease_id, "
                              "attempted_at, due_at) SELECT id, queue, priority, attempt + 1, ?4, ?5, "
                              "run_at FROM ready WHERE queue = ?1 AND priority = ?2 AND "
                              "(run_at, id) <= (?3, ?6)"};
  sqlite_statement drop_range{db,
                              "DELETE FROM ready WHERE queue = ?1 AND priority = ?2 AND "
                              "(run_at, id) <= (?3, ?4)"};
  sqlite_statement count_lease{db, "UPDATE leases SET remaining = ?2 WHERE id = ?1"};

  // complete, common case (plain successes), per lease: the ids go in as one JSON array. No
  // RETURNING: it doubled the statement's cost (docs/benchmarks.md); the count is changes()
  // and the queue is the lease's (a lease is one claim from one queue, see take).
  sqlite_statement finish_ids{db,
                              "INSERT INTO finished (id, queue, state, attempt, attempted_at, "
                              "finalized_at, node) SELECT id, queue, 'completed', attempt, "
                              "attempted_at, ?1, (SELECT worker FROM leases WHERE id = ?2) FROM "
                              "running WHERE id IN (SELECT value FROM json_each(?3)) AND lease_id = ?2"};
  sqlite_statement queue_of{db, "SELECT queue FROM running WHERE id = ?1"};
  sqlite_statement still_running{db,
                                 "SELECT id, queue FROM running WHERE id IN "
                                 "(SELECT value FROM json_each(?2)) AND lease_id = ?1"};
  sqlite_statement drop_running_ids{db,
                                    "DELETE FROM running WHERE id IN "
                                    "(SELECT value FROM json_each(?2)) AND lease_id = ?1"};
  // A lease's last job takes the lease row with it.
  sqlite_statement release_lease{db,
                                 "UPDATE leases SET remaining = remaining - ?2 WHERE id = ?1 "
                                 "RETURNING remaining"};
  sqlite_statement drop_lease{db, "DELETE FROM leases WHERE id = ?1"};

  // complete, general case: the batch goes into a temp table in one statement, then each kind
  // of transition is one set-based statement joined against it.
  sqlite_statement load_batch{db,
                              "INSERT OR IGNORE INTO temp.batch (id, lease, next, attempt, at, "
                              "run_at, note, err_attempt, err_at, err_msg, result) SELECT value->>0, "
                              "value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, "
                              "value->>7, value->>8, value->>9, value->10 FROM json_each(?1)"};
  sqlite_statement drop_stale{db,
                              "DELETE FROM temp.batch WHERE NOT EXISTS (SELECT 1 FROM running r "
                              "WHERE r.id = batch.id AND r.lease_id = batch.lease) RETURNING id"};
  sqlite_statement insert_errors{db,
                                 "INSERT INTO job_errors (job_id, seq, attempt, at, message, "
                                 "started_at, node) SELECT b.id, COALESCE((SELECT MAX(seq) FROM "
                                 "job_errors e WHERE e.job_id = b.id), 0) + 1, b.err_attempt, "
                                 "b.err_at, b.err_msg, r.attempted_at, l.worker FROM temp.batch b "
                                 "LEFT JOIN running r ON r.id = b.id LEFT JOIN leases l ON "
                                 "l.id = r.lease_id WHERE b.err_msg IS NOT NULL"};
  sqlite_statement insert_finished{db,
                                   "INSERT INTO finished (id, queue, state, attempt, attempted_at, "
                                   "finalized_at, note, node) SELECT b.id, r.queue, CASE b.next "
                                   "WHEN 0 THEN 'completed' ELSE 'cancelled' END, b.attempt, "
                                   "r.attempted_at, b.at, NULLIF(b.note, ''), l.worker FROM "
                                   "temp.batch b JOIN running r ON r.id = b.id LEFT JOIN leases l "
                                   "ON l.id = r.lease_id WHERE b.next IN (0, 3)"};
  // Results of the successes still held (the stale ones are gone from the batch by now). A job
  // run again by an operator replaces its earlier result.
  sqlite_statement insert_results{db,
                                  "INSERT OR REPLACE INTO job_results (job_id, result) SELECT b.id, "
                                  "b.result FROM temp.batch b WHERE b.next = 0 AND b.result IS NOT NULL"};
  sqlite_statement insert_retried{db,
                                  "INSERT INTO ready (queue, priority, run_at, id, attempt) "
                                  "SELECT r.queue, r.priority, b.run_at, b.id, b.attempt FROM "
                                  "temp.batch b JOIN running r ON r.id = b.id WHERE b.next IN (1, 4)"};
  sqlite_statement insert_dead{db,
                               "INSERT INTO dead_letter_jobs (id, queue, attempt, attempted_at, "
                               "dead_at, last_error) SELECT b.id, r.queue, b.attempt, "
                               "r.attempted_at, b.at, b.note FROM temp.batch b JOIN running r "
                               "ON r.id = b.id WHERE b.next = 2"};
  sqlite_statement drop_running{db, "DELETE FROM running WHERE id IN (SELECT id FROM temp.batch)"};
  sqlite_statement release_leases{db,
                                  "UPDATE leases SET remaining = remaining - (SELECT COUNT(*) FROM "
                                  "temp.batch b WHERE b.lease = leases.id) WHERE id IN "
                                  "(SELECT lease FROM temp.batch)"};
  sqlite_statement drop_leases{db,
                               "DELETE FROM leases WHERE id IN (SELECT lease FROM temp.batch) "
                               "AND remaining <= 0"};
  sqlite_statement clear_batch{db, "DELETE FROM temp.batch"};

  // job_counts: a transaction's changes, summed per queue and state (see job_counts.hpp), up
  // to three rows per statement: a round of one queue changes waiting, running and completed.
  static std::string add_counts_sql(int rows) {
    std::string sql = "INSERT INTO job_counts (queue, state, shard, n) VALUES ";
    for (int i = 0; i < rows; ++i)
      sql += (i ? ", (?" : "(?") + std::to_string(3 * i + 1) + ", ?" + std::to_string(3 * i + 2) +
             ", 0, ?" + std::to_string(3 * i + 3) + ")";
    return sql + " ON CONFLICT (queue, state, shard) DO UPDATE SET n = job_counts.n + excluded.n";
  }
  sqlite_statement add_count_rows[3] = {{db, add_counts_sql(1)}, {db, add_counts_sql(2)},
                                        {db, add_counts_sql(3)}};
  sqlite_statement batch_moves{db,
                               "SELECT r.queue, b.next, COUNT(*) FROM temp.batch b JOIN running r "
                               "ON r.id = b.id GROUP BY 1, 2"};

  // Whether any of the jobs a round ended (a JSON array of ids) has pending dependants: first
  // whether any job is pending at all (one probe of an index that is empty then), then one probe
  // per job, so rounds pay next to nothing where nobody waits.
  sqlite_statement any_pending{db, "SELECT 1 FROM ready WHERE run_at = 9223372036854775807 LIMIT 1"};
  sqlite_statement any_dependants{db,
                                  "SELECT 1 FROM job_dependencies WHERE parent_id IN "
                                  "(SELECT value FROM json_each(?1)) LIMIT 1"};

  sqlite_statement renew_leases{db,
                                "UPDATE leases SET lease_until = ?1 WHERE id IN "
                                "(SELECT value FROM json_each(?2))"};
};

void sqlite_store::run(const char* op, const session_work& work) {
  if (!st_) prepare();
  try {
    work(*sql_);
  } catch (const std::exception& e) {
    throw store_error(std::string(op) + " failed on '" + path_ + "': " + e.what());
  }
}

void sqlite_store::run_write(const char* op, bool durable, const session_work& work) {
  if (!st_) prepare();
  try {
    set_synchronous(durable);
    sqlite_transaction tx(*tx_);
    pending_counts_->clear();
    work(*sql_);
    write_counts();
    tx.commit();
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error(std::string(op) + " failed on '" + path_ + "': " + e.what());
  }
}

sqlite_store::sqlite_store(const location& where, const open_options& options)
    : sql_store(sqlite_dialect, options.schemas), path_(where.shown),
      pending_counts_(std::make_unique<count_deltas>()), relaxed_enqueue_(options.relaxed_enqueue) {
  migrate_on_use_ = options.migrate_on_use;
  try {
    sql_ = open_session(where, "spool");
    // Debian builds SQLite with secure_delete on; zeroing freed pages buys nothing here.
    *sql_ << "PRAGMA secure_delete=OFF";
    *sql_ << "PRAGMA foreign_keys=OFF";
  } catch (const std::exception& e) {
    throw store_error("cannot open database '" + path_ + "': " + e.what());
  }
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::set_synchronous(bool full) {
  const int wanted = full ? 2 : 1;
  if (synchronous_ == wanted) return;
  // Not a prepared statement: SQLite applies this pragma when it compiles it, not when it runs.
  auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
  const char* pragma = full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  if (sqlite_api::sqlite3_exec(conn, pragma, nullptr, nullptr, nullptr) != SQLITE_OK)
    throw sqlite_error(std::string(pragma) + " failed: " + sqlite_api::sqlite3_errmsg(conn));
  synchronous_ = wanted;
}

int sqlite_store::migrate() {
  try {
    const int applied = apply_migrations(*sql_);
    migrated_ = true;
    return applied;
  } catch (const std::exception& e) {
    throw store_error("migrating '" + path_ + "' failed: " + e.what());
  }
}

void sqlite_store::prepare() {
  if (!migrated_ && !migrate_on_use_) {
    require_migrated(*sql_, path_);
    migrated_ = true;
  }
  if (!migrated_) migrate();
  try {
    *sql_ << "PRAGMA temp_store=MEMORY";
    *sql_ << "CREATE TEMP TABLE IF NOT EXISTS batch (id INTEGER PRIMARY KEY, lease INTEGER NOT NULL, "
             "next INTEGER NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL, run_at INTEGER, "
             "note TEXT, err_attempt INTEGER, err_at INTEGER, err_msg TEXT, result TEXT)";
    auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
    tx_ = std::make_unique<sqlite_transaction::statements>(conn, sqlite_dialect.begin_write);
    st_ = std::make_unique<statements>(conn);
    insert_ = std::make_unique<sqlite_insert>(conn);
  } catch (const std::exception& e) {
    throw store_error("preparing statements on '" + path_ + "' failed: " + e.what());
  }
}

insert_and_claim_result sqlite_store::insert_and_claim(std::span<const jobs::new_job> batch,
                                                       time_point now,
                                                       std::span<const claim_request> claims) {
  return write("enqueue", !relaxed_enqueue_, [&](soci::session&) {
    insert_and_claim_result r;
    r.inserted = insert_rows(batch, now);
    for (const auto& c : claims) r.claimed.push_back(claim_in_transaction(c));
    return r;
  });
}

std::vector<insert_result> sqlite_store::insert_in_transaction(std::span<const jobs::new_job> batch,
                                                             time_point now) {
  return insert_rows(batch, now);
}

std::vector<insert_result> sqlite_store::insert_rows(std::span<const jobs::new_job> batch, time_point now) {
  if (!any_dependencies(batch)) return insert_->rows(batch, now);
  const auto stored = with_pending(batch);
  auto inserted = insert_->rows(stored, now);
  attach_dependencies(*sql_, batch, inserted, now);
  return inserted;
}

round_result sqlite_store::complete_and_claim(std::span<const jobs::completion> done,
                                              const claim_request& next) {
  if (done.empty() && next.limit <= 0 && !next.want_next_due) return {};
  return write(next.limit > 0 ? "claim" : "complete", false, [&](soci::session&) {
    round_result r;
    if (!done.empty()) {
      r.stale = complete_successes(done);
      auto rest = complete_others(done);
      r.stale.insert(r.stale.end(), rest.begin(), rest.end());
      if (auto ended = ended_jobs(done, r.stale); !ended.empty() && has_dependants(ended))
        r.released = settle_dependants(*sql_, std::move(ended), latest_at(done));
      if (any_snooze(done)) record_snoozes(*sql_, done, r.stale);
      if (auto follow = accepted_follow_ups(done, r.stale); !follow.empty())
        r.follow_ups = insert_rows(follow, latest_at(done));
    }
    r.claimed = claim_in_transaction(next, &r.held_back);
    if (next.want_next_due) r.next_due = find_next_due(next.queue, next.now);
    return r;
  });
}

bool sqlite_store::has_dependants(std::span<const std::pair<job_id, jobs::state>> ended) {
  if (!st_->any_pending.step()) return false;
  st_->any_pending.reset();
  std::vector<job_id> ids;
  for (auto& [id, _] : ended) ids.push_back(id);
  const auto ids_json = id_array(ids);  // bound as it is: alive until the statement is reset
  auto& probe = st_->any_dependants.bind(1, ids_json);
  const bool found = probe.step();
  if (found) probe.reset();
  return found;
}

std::optional<long long> sqlite_store::next_level(const std::string& queue,
                                                  std::optional<long long> after) {
  auto& st = st_->next_level;
  st.bind(1, queue).bind(2, after ? *after : std::numeric_limits<long long>::min());
  std::optional<long long> found;
  if (st.step()) {
    if (!st.null(0)) found = st.int64(0);
    st.reset();
  }
  return found;
}

std::vector<jobs::claimed_job> sqlite_store::claim_in_transaction(const claim_request& next,
                                                                  bool* held_back) {
  if (next.limit <= 0) return {};
  if (!next.limits.empty() && !limits_cannot_bind(*sql_, next))
    if (auto limited = take_limited(*sql_, next, held_back)) return std::move(*limited);
  return take(next);
}

std::vector<jobs::claimed_job> sqlite_store::take(const claim_request& next) {
  auto& s = *st_;
  const long long now = to_us(next.now);
  long long lease = 0;
  std::vector<jobs::claimed_job> out;
  for (auto level = next_level(next.queue, {}); level; level = next_level(next.queue, level)) {
    const auto first = out.size();
    long long last_run_at = 0, last_id = 0;
    auto& rows = s.read_due.bind(1, next.queue).bind(2, *level).bind(3, now)
                     .bind(4, next.limit - static_cast<long long>(first));
    while (rows.step()) {
      jobs::claimed_job c;
      c.id = last_id = rows.int64(0);
      c.run_at = from_us(last_run_at = rows.int64(1));
      c.attempt = static_cast<int>(rows.int64(2)) + 1;
      c.kind = rows.text(3);
      c.payload = rows.text(4);
      c.max_attempts = static_cast<int>(rows.int64(5));
      c.created_at = from_us(rows.int64(6));
      c.snoozes = static_cast<int>(rows.int64(7));
      c.snoozed_for = jobs::duration(rows.int64(8));
      c.has_parents = rows.int64(9) != 0;
      c.priority = static_cast<int>(*level);
      c.queue = next.queue;
      out.push_back(std::move(c));
    }
    if (out.size() == first) continue;  // nothing due at this level
    if (lease == 0) {  // the lease row is written only once there is something to take
      s.insert_lease.bind(1, next.worker).bind(2, to_us(next.lease_until)).run();
      lease = s.last_id();
    }
    // Exactly the rows just read: the level's key range up to the last of them.
    s.take_range.bind(1, next.queue).bind(2, *level).bind(3, last_run_at).bind(4, lease)
        .bind(5, now).bind(6, last_id).run();
    s.drop_range.bind(1, next.queue).bind(2, *level).bind(3, last_run_at).bind(4, last_id).run();
    if (static_cast<int>(out.size()) == next.limit) break;
  }
  if (lease != 0) {
    s.count_lease.bind(1, lease).bind(2, static_cast<long long>(out.size())).run();
    count_deltas counts;
    counts.move(next.queue, waiting_state, "running", static_cast<long long>(out.size()));
    add_counts(counts);
  }
  for (auto& c : out) c.lease = lease;
  return out;
}

std::optional<time_point> sqlite_store::find_next_due(const std::string& queue, time_point now) {
  auto& st = st_->level_next_due;
  std::optional<long long> earliest;
  for (auto level = next_level(queue, {}); level; level = next_level(queue, level)) {
    if (!st.bind(1, queue).bind(2, *level).bind(3, to_us(now)).step()) continue;
    if (!st.null(0) && (!earliest || st.int64(0) < *earliest)) earliest = st.int64(0);
    st.reset();
  }
  if (!earliest) return std::nullopt;
  return from_us(*earliest);
}

std::optional<time_point> sqlite_store::next_due(const std::string& queue, time_point now) {
  return call("find next due job", [&](soci::session&) { return find_next_due(queue, now); });
}

std::vector<job_id> sqlite_store::complete_successes(std::span<const jobs::completion> batch) {
  auto& s = *st_;
  // Per lease (a round's completions share one or two): the finished rows are written for the
  // jobs still running under it, then those running rows go. Fencing: a job whose lease was lost
  // is left alone, and reported.
  std::map<lease_id, std::vector<job_id>> by_lease;
  long long latest = 0;
  for (const auto& c : batch)
    if (plain_success(c)) {
      by_lease[c.lease].push_back(c.id);
      latest = std::max(latest, to_us(c.change.at));
    }
  std::vector<job_id> stale;
  count_deltas counts;
  for (const auto& [lease, ids] : by_lease) {
    const auto ids_json = id_array(ids);
    const int finished = s.finish_ids.bind(1, latest).bind(2, lease).bind(3, ids_json).run();
    if (finished == static_cast<int>(ids.size())) {
      // Every job still ran under the lease: all of the lease's queue, read off one of them.
      if (s.queue_of.bind(1, ids.front()).step()) {
        counts.move(std::string(s.queue_of.text(0)), "running", "completed", finished);
        s.queue_of.reset();
      }
    } else {
      // The rows just finished are those still running under the lease (they go below).
      std::unordered_set<job_id> valid;
      auto& rows = s.still_running.bind(1, lease).bind(2, ids_json);
      while (rows.step()) {
        valid.insert(rows.int64(0));
        counts.move(std::string(rows.text(1)), "running", "completed", 1);
      }
      for (auto id : ids)
        if (!valid.count(id)) stale.push_back(id);
    }
    if (finished > 0) {
      s.drop_running_ids.bind(1, lease).bind(2, ids_json).run();
      auto& left = s.release_lease.bind(1, lease).bind(2, finished);
      const bool last = left.step() && left.int64(0) <= 0;
      left.reset();
      if (last) s.drop_lease.bind(1, lease).run();
    }
  }
  add_counts(counts);
  return stale;
}

std::vector<job_id> sqlite_store::complete_others(std::span<const jobs::completion> batch) {
  if (std::all_of(batch.begin(), batch.end(), plain_success)) return {};
  auto& s = *st_;
  using to = jobs::transition::to;
  bool any_error = false, any_finished = false, any_ready = false, any_dead = false, any_result = false;
  for (const auto& c : batch) {
    if (plain_success(c)) continue;
    const auto next = c.change.next;
    any_error |= c.change.error.has_value();
    any_finished |= next == to::completed || next == to::cancelled;
    any_ready |= next == to::retry || next == to::requeue;
    any_dead |= next == to::dead;
    any_result |= !c.change.result.empty();
  }
  const auto batch_json = completions_json(batch, true);
  s.load_batch.bind(1, batch_json).run();
  std::vector<job_id> stale;
  while (s.drop_stale.step()) stale.push_back(s.drop_stale.int64(0));
  if (any_error) s.insert_errors.run();
  if (any_finished) s.insert_finished.run();
  if (any_result) s.insert_results.run();
  if (any_ready) s.insert_retried.run();
  if (any_dead) s.insert_dead.run();
  count_deltas counts;
  while (s.batch_moves.step()) {
    static constexpr std::string_view to_state[] = {"completed", waiting_state, "dead", "cancelled",
                                                    waiting_state};
    const auto next = s.batch_moves.int64(1);
    if (next >= 0 && next < 5)
      counts.move(std::string(s.batch_moves.text(0)), "running", to_state[next],
                  s.batch_moves.int64(2));
  }
  add_counts(counts);
  s.drop_running.run();
  s.release_leases.run();
  s.drop_leases.run();
  s.clear_batch.run();
  return stale;
}

void sqlite_store::add_counts(const count_deltas& counts) { pending_counts_->add(counts); }

void sqlite_store::write_counts() {
  std::vector<const std::pair<const std::pair<std::string, std::string>, long long>*> rows;
  for (const auto& entry : pending_counts_->entries())
    if (entry.second != 0) rows.push_back(&entry);
  for (std::size_t done = 0; done < rows.size();) {
    const auto k = std::min<std::size_t>(3, rows.size() - done);
    auto& st = st_->add_count_rows[k - 1];
    for (std::size_t i = 0; i < k; ++i) {
      const auto& [key, n] = *rows[done + i];
      const int base = static_cast<int>(3 * i);
      st.bind(base + 1, key.first).bind(base + 2, key.second).bind(base + 3, n);
    }
    st.run();
    done += k;
  }
  pending_counts_->clear();
}

void sqlite_store::renew(std::span<const lease_id> leases, time_point until) {
  if (leases.empty()) return;
  write("renew leases", false, [&](soci::session&) {
    const auto ids = id_array(leases);
    st_->renew_leases.bind(1, to_us(until)).bind(2, ids).run();
  });
}

void sqlite_store::notify(const std::string&) {}

std::unique_ptr<store> open_sqlite(const location& where, const open_options& options) {
  return std::make_unique<sqlite_store>(where, options);
}

}  // namespace spool::store
