#include "persistence/sqlite_store.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_map>
#include <fmt/format.h>

#include "persistence/sqlite_detail.hpp"
#include "persistence/sql_common.hpp"
#include "persistence/schema.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

namespace {
// Runs a query of at most one row and, if there is one, calls read() while its values are in
// the statement's variables, then steps past it: a statement left on a row keeps this
// connection's read snapshot open after COMMIT, and once another connection writes, every later
// write here fails with "database is locked" at once.
template <class Read>
bool single_row(soci::statement& st, Read read) {
  st.execute(true);
  if (!st.got_data()) return false;
  read();
  st.fetch();
  return true;
}
}  // namespace

// The hot-path statements, prepared once, and the variables they bind.
struct sqlite_store::statements {
  explicit statements(soci::session& sql) : sql(sql) {}
  soci::session& sql;

  // insert
  std::string kind, queue, payload, key;
  int priority = 0, max_attempts = 0, attempt = 0;
  long long created_at = 0, run_at = 0, id = 0, found = 0;
  soci::indicator key_ind = soci::i_null;
  soci::statement insert_job{(sql.prepare << "INSERT INTO jobs (kind, queue, payload, priority, "
                                             "max_attempts, unique_key, created_at) "
                                             "VALUES (:k, :q, :p, :pr, :m, :u, :c)",
                              use(kind), use(queue), use(payload), use(priority), use(max_attempts),
                              use(key, key_ind), use(created_at))};
  soci::statement insert_ready{(sql.prepare << "INSERT INTO ready (queue, priority, run_at, id, "
                                               "attempt) VALUES (:q, :pr, :r, :id, :a)",
                                use(queue), use(priority), use(run_at), use(id), use(attempt))};
  soci::statement find_pending_key{(sql.prepare << "SELECT u.job_id FROM unique_keys u JOIN ready r "
                                                   "ON r.id = u.job_id WHERE u.key = :k",
                                    into(found), use(key))};
  soci::statement hold_key{(sql.prepare << "INSERT OR REPLACE INTO unique_keys (key, job_id) "
                                           "VALUES (:k, :id)",
                            use(key), use(id))};

  // claim: set-based, a handful of statements per batch whatever its size
  std::string worker;
  long long now = 0, lease_until = 0, lease = 0;
  int limit = 0;
  soci::statement insert_lease{(sql.prepare << "INSERT INTO leases (worker, lease_until) "
                                               "VALUES (:w, :u)",
                                use(worker), use(lease_until))};
  // Claims walk the queue one priority level at a time: within a level, due jobs come first in
  // key order, so each level's scan stops at its first job not yet due instead of reading every
  // scheduled job behind it.
  long long level = 0, after_level = 0;
  soci::indicator level_ind = soci::i_null;
  soci::statement next_level{(sql.prepare << "SELECT MIN(priority) FROM ready "
                                             "WHERE queue = :q AND priority > :p",
                              into(level, level_ind), use(queue), use(after_level))};
  soci::statement take_level{
      (sql.prepare << "INSERT INTO running (id, queue, priority, attempt, lease_id, attempted_at, "
                      "due_at) SELECT id, queue, priority, attempt + 1, :l, :n, run_at FROM ready "
                      "WHERE queue = :q AND priority = :p AND run_at <= :n2 ORDER BY run_at, id "
                      "LIMIT :lim",
       use(lease), use(now), use(queue), use(level), use(now), use(limit))};
  long long due = 0;
  soci::indicator due_ind = soci::i_null;
  soci::statement level_next_due{(sql.prepare << "SELECT MIN(run_at) FROM ready WHERE queue = :q "
                                                 "AND priority = :p AND run_at > :n",
                                  into(due, due_ind), use(queue), use(level), use(now))};
  soci::statement drop_ready{(sql.prepare << "DELETE FROM ready WHERE id IN "
                                             "(SELECT id FROM running WHERE lease_id = :l)",
                              use(lease))};
  soci::statement drop_empty_lease{(sql.prepare << "DELETE FROM leases WHERE id = :l", use(lease))};
  long long c_id = 0, c_due = 0;
  int c_priority = 0, c_attempt = 0;
  soci::statement read_claimed{
      (sql.prepare << "SELECT r.id, r.priority, r.attempt, r.due_at, j.kind, j.payload, "
                      "j.max_attempts, j.created_at FROM running r JOIN jobs j ON j.id = r.id "
                      "WHERE r.lease_id = :l ORDER BY r.priority, r.due_at, r.id",
       into(c_id), into(c_priority), into(c_attempt), into(c_due), into(kind), into(payload),
       into(max_attempts), into(created_at), use(lease))};

  long long at = 0;
  std::string lease_ids;
  // complete, general case: the batch goes into a temp table in one statement, then each kind of transition
  // is one set-based statement joined against it.
  std::string batch_json;
  soci::statement load_batch{
      (sql.prepare << "INSERT OR IGNORE INTO temp.batch (id, lease, next, attempt, at, run_at, note, "
                      "err_attempt, err_at, err_msg) SELECT value->>0, value->>1, value->>2, "
                      "value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9 "
                      "FROM json_each(:b)",
       use(batch_json))};
  soci::statement drop_stale{(sql.prepare << "DELETE FROM temp.batch WHERE NOT EXISTS (SELECT 1 "
                                             "FROM running r WHERE r.id = batch.id AND "
                                             "r.lease_id = batch.lease) RETURNING id",
                              into(c_id))};
  soci::statement insert_errors{
      (sql.prepare << "INSERT INTO job_errors (job_id, seq, attempt, at, message) SELECT b.id, "
                      "COALESCE((SELECT MAX(seq) FROM job_errors e WHERE e.job_id = b.id), 0) + 1, "
                      "b.err_attempt, b.err_at, b.err_msg FROM temp.batch b "
                      "WHERE b.err_msg IS NOT NULL")};
  soci::statement insert_finished{
      (sql.prepare << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at, "
                      "note) SELECT b.id, r.queue, CASE b.next WHEN 0 THEN 'completed' ELSE "
                      "'cancelled' END, b.attempt, r.attempted_at, b.at, NULLIF(b.note, '') "
                      "FROM temp.batch b JOIN running r ON r.id = b.id WHERE b.next IN (0, 3)")};
  soci::statement insert_retried{
      (sql.prepare << "INSERT INTO ready (queue, priority, run_at, id, attempt) SELECT r.queue, "
                      "r.priority, b.run_at, b.id, b.attempt FROM temp.batch b "
                      "JOIN running r ON r.id = b.id WHERE b.next IN (1, 4)")};
  soci::statement insert_dead{
      (sql.prepare << "INSERT INTO dead_letter_jobs (id, queue, attempt, attempted_at, dead_at, "
                      "last_error) SELECT b.id, r.queue, b.attempt, r.attempted_at, b.at, b.note "
                      "FROM temp.batch b JOIN running r ON r.id = b.id WHERE b.next = 2")};
  soci::statement drop_running{
      (sql.prepare << "DELETE FROM running WHERE id IN (SELECT id FROM temp.batch)")};
  soci::statement drop_leases{
      (sql.prepare << "DELETE FROM leases WHERE id IN (SELECT DISTINCT lease FROM temp.batch) "
                      "AND NOT EXISTS (SELECT 1 FROM running WHERE lease_id = leases.id)")};
  soci::statement clear_batch{(sql.prepare << "DELETE FROM temp.batch")};

  // complete, common case (a plain success): three statements over a flat JSON array of ids.
  std::string ids_json;
  long long c_lease = 0;
  soci::statement read_leases{
      (sql.prepare << "SELECT id, lease_id FROM running WHERE id IN "
                      "(SELECT value FROM json_each(:ids))",
       into(c_id), into(c_lease), use(ids_json))};
  soci::statement finish_ids{
      (sql.prepare << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at) "
                      "SELECT id, queue, 'completed', attempt, attempted_at, :at FROM running "
                      "WHERE id IN (SELECT value FROM json_each(:ids))",
       use(at), use(ids_json))};
  soci::statement drop_running_ids{
      (sql.prepare << "DELETE FROM running WHERE id IN (SELECT value FROM json_each(:ids))",
       use(ids_json))};
  soci::statement drop_leases_ids{
      (sql.prepare << "DELETE FROM leases WHERE id IN (SELECT value FROM json_each(:ids)) "
                      "AND NOT EXISTS (SELECT 1 FROM running WHERE lease_id = leases.id)",
       use(lease_ids))};
  soci::statement renew_leases{
      (sql.prepare << "UPDATE leases SET lease_until = :u WHERE id IN "
                      "(SELECT value FROM json_each(:ids))",
       use(lease_until), use(lease_ids))};
};


sqlite_store::sqlite_store(const std::string& path, bool relaxed_enqueue)
    : path_(path), relaxed_enqueue_(relaxed_enqueue) {
  try {
    sql_ = std::make_unique<soci::session>(soci::sqlite3, "db=" + path + " timeout=5");
    std::string mode;
    *sql_ << "PRAGMA journal_mode=WAL", into(mode);
    if (mode != "wal") throw store_error("could not switch to WAL mode (got '" + mode + "')");
    // Debian builds SQLite with secure_delete on; zeroing freed pages buys nothing here.
    *sql_ << "PRAGMA secure_delete=OFF";
    *sql_ << "PRAGMA foreign_keys=OFF";
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error("cannot open database '" + path + "': " + e.what());
  }
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::set_synchronous(bool full) {
  const int wanted = full ? 2 : 1;
  if (synchronous_ == wanted) return;
  *sql_ << (full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  synchronous_ = wanted;
}

int sqlite_store::migrate() {
  try {
    const int applied = sql::apply_migrations(*sql_, sqlite_migrations(), "BEGIN IMMEDIATE");
    migrated_ = true;
    return applied;
  } catch (const std::exception& e) {
    throw store_error("migrating '" + path_ + "' failed: " + e.what());
  }
}

void sqlite_store::prepare() {
  if (!migrated_) migrate();
  try {
    *sql_ << "PRAGMA temp_store=MEMORY";
    *sql_ << "CREATE TEMP TABLE IF NOT EXISTS batch (id INTEGER PRIMARY KEY, lease INTEGER NOT NULL, "
             "next INTEGER NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL, run_at INTEGER, "
             "note TEXT, err_attempt INTEGER, err_at INTEGER, err_msg TEXT)";
    st_ = std::make_unique<statements>(*sql_);
  } catch (const std::exception& e) {
    throw store_error("preparing statements on '" + path_ + "' failed: " + e.what());
  }
}

std::vector<insert_result> sqlite_store::insert(std::span<const jobs::new_job> batch, time_point now) {
  return write("enqueue", !relaxed_enqueue_, [&] {
    auto& s = *st_;
    auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
    std::vector<insert_result> out;
    out.reserve(batch.size());
    for (const auto& j : batch) {
      if (j.unique_key) {
        s.key = *j.unique_key;
        if (single_row(s.find_pending_key, [&] { out.push_back({s.found, true}); })) continue;
      }
      s.kind = j.kind;
      s.queue = j.queue;
      s.payload = j.payload;
      s.priority = j.priority;
      s.max_attempts = j.max_attempts;
      s.key_ind = j.unique_key ? soci::i_ok : soci::i_null;
      s.created_at = to_us(now);
      s.insert_job.execute(true);
      s.id = sqlite_api::sqlite3_last_insert_rowid(conn);
      s.run_at = to_us(j.run_at.value_or(now));
      s.attempt = 0;
      s.insert_ready.execute(true);
      if (j.unique_key) s.hold_key.execute(true);
      out.push_back({s.id, false});
    }
    return out;
  });
}

std::vector<jobs::claimed_job> sqlite_store::claim(const std::string& queue, int limit,
                                                   const std::string& worker, time_point now,
                                                   time_point lease_until) {
  if (limit <= 0) return {};
  return complete_and_claim({}, {.queue = queue, .limit = limit, .worker = worker, .now = now,
                                 .lease_until = lease_until})
      .claimed;
}

std::vector<job_id> sqlite_store::complete(std::span<const jobs::completion> batch) {
  if (batch.empty()) return {};
  return complete_and_claim(batch, {}).stale;
}

round_result sqlite_store::complete_and_claim(std::span<const jobs::completion> done,
                                              const claim_request& next) {
  if (done.empty() && next.limit <= 0 && !next.want_next_due) return {};
  return write(next.limit > 0 ? "claim" : "complete", false, [&] {
    round_result r;
    if (!done.empty()) {
      r.stale = complete_successes(done);
      auto rest = complete_others(done);
      r.stale.insert(r.stale.end(), rest.begin(), rest.end());
    }
    if (next.limit > 0) r.claimed = take(next);
    if (next.want_next_due) r.next_due = find_next_due(next.queue, next.now);
    return r;
  });
}

// The queue's next priority level after `after` (the lowest one first), if any.
std::optional<long long> sqlite_store::next_level(const std::string& queue,
                                                  std::optional<long long> after) {
  auto& s = *st_;
  s.queue = queue;
  s.after_level = after ? *after : std::numeric_limits<long long>::min();
  std::optional<long long> found;
  single_row(s.next_level, [&] {
    if (s.level_ind == soci::i_ok) found = s.level;
  });
  return found;
}

std::vector<jobs::claimed_job> sqlite_store::take(const claim_request& next) {
  auto& s = *st_;
  auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
  s.worker = next.worker;
  s.lease_until = to_us(next.lease_until);
  s.insert_lease.execute(true);
  s.lease = sqlite_api::sqlite3_last_insert_rowid(conn);
  s.now = to_us(next.now);
  int taken = 0;
  for (auto level = next_level(next.queue, {}); level; level = next_level(next.queue, level)) {
    s.level = *level;
    s.limit = next.limit - taken;
    s.take_level.execute(true);
    taken += static_cast<int>(s.take_level.get_affected_rows());
    if (taken == next.limit) break;
  }
  std::vector<jobs::claimed_job> out;
  if (taken == 0) {
    s.drop_empty_lease.execute(true);
    return out;
  }
  s.drop_ready.execute(true);
  out.reserve(taken);
  s.read_claimed.execute(false);
  while (s.read_claimed.fetch()) {
    jobs::claimed_job c;
    c.id = s.c_id;
    c.kind = s.kind;
    c.queue = next.queue;
    c.payload = s.payload;
    c.priority = s.c_priority;
    c.attempt = s.c_attempt;
    c.max_attempts = s.max_attempts;
    c.run_at = from_us(s.c_due);
    c.created_at = from_us(s.created_at);
    c.lease = s.lease;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<time_point> sqlite_store::find_next_due(const std::string& queue, time_point now) {
  auto& s = *st_;
  std::optional<long long> earliest;
  for (auto level = next_level(queue, {}); level; level = next_level(queue, level)) {
    s.level = *level;
    s.now = to_us(now);
    single_row(s.level_next_due, [&] {
      if (s.due_ind == soci::i_ok && (!earliest || s.due < *earliest)) earliest = s.due;
    });
  }
  if (!earliest) return std::nullopt;
  return from_us(*earliest);
}

std::optional<time_point> sqlite_store::next_due(const std::string& queue, time_point now) {
  return read("find next due job", [&] { return find_next_due(queue, now); });
}

using sql::json_ints;
using sql::plain_success;

std::vector<job_id> sqlite_store::complete_successes(std::span<const jobs::completion> batch) {
  auto& s = *st_;
  std::unordered_map<job_id, lease_id> wanted;
  long long latest = 0;
  for (const auto& c : batch)
    if (plain_success(c)) {
      wanted.emplace(c.id, c.lease);
      latest = std::max(latest, to_us(c.change.at));
    }
  if (wanted.empty()) return {};
  std::vector<job_id> ids;
  ids.reserve(wanted.size());
  for (auto& [id, _] : wanted) ids.push_back(id);
  s.ids_json = json_ints(ids);
  // Fencing: only jobs still running under the completion's lease are applied.
  std::vector<job_id> valid, stale;
  std::set<lease_id> leases;
  s.read_leases.execute(false);
  while (s.read_leases.fetch())
    if (wanted.at(s.c_id) == s.c_lease) {
      valid.push_back(s.c_id);
      leases.insert(s.c_lease);
    }
  if (valid.size() != ids.size()) {
    std::set<job_id> ok(valid.begin(), valid.end());
    for (auto id : ids)
      if (!ok.count(id)) stale.push_back(id);
    s.ids_json = json_ints(valid);
  }
  if (valid.empty()) return stale;
  s.at = latest;
  s.finish_ids.execute(true);
  s.drop_running_ids.execute(true);
  s.lease_ids = json_ints(std::vector<lease_id>(leases.begin(), leases.end()));
  s.drop_leases_ids.execute(true);
  return stale;
}

std::vector<job_id> sqlite_store::complete_others(std::span<const jobs::completion> batch) {
  if (std::all_of(batch.begin(), batch.end(), plain_success)) return {};
  {
    auto& s = *st_;
    using to = jobs::transition::to;
    bool any_error = false, any_finished = false, any_ready = false, any_dead = false;
    for (const auto& c : batch) {
      if (plain_success(c)) continue;
      const auto next = c.change.next;
      any_error |= c.change.error.has_value();
      any_finished |= next == to::completed || next == to::cancelled;
      any_ready |= next == to::retry || next == to::requeue;
      any_dead |= next == to::dead;
    }
    s.batch_json = sql::completions_json(batch, true);
    s.load_batch.execute(true);
    std::vector<job_id> stale;
    s.drop_stale.execute(false);
    while (s.drop_stale.fetch()) stale.push_back(s.c_id);
    if (any_error) s.insert_errors.execute(true);
    if (any_finished) s.insert_finished.execute(true);
    if (any_ready) s.insert_retried.execute(true);
    if (any_dead) s.insert_dead.execute(true);
    s.drop_running.execute(true);
    s.drop_leases.execute(true);
    s.clear_batch.execute(true);
    return stale;
  }
}

void sqlite_store::renew(std::span<const lease_id> leases, time_point until) {
  if (leases.empty()) return;
  write("renew leases", false, [&] {
    st_->lease_until = to_us(until);
    st_->lease_ids = json_ints(leases);
    st_->renew_leases.execute(true);
  });
}

}  // namespace spool::store
