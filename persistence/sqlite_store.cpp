#include "persistence/sqlite_store.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <set>

#include "persistence/sqlite_detail.hpp"
#include "persistence/sqlite_schema.hpp"
#include "persistence/time_codec.hpp"

namespace spool::store {

using soci::into;
using soci::use;

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

  // claim
  std::string worker;
  long long now = 0, lease_until = 0, lease = 0;
  int limit = 0;
  long long c_id = 0, c_run_at = 0;
  int c_priority = 0, c_attempt = 0;
  soci::statement take_ready{
      (sql.prepare << "DELETE FROM ready WHERE queue = :q AND (priority, run_at, id) IN "
                      "(SELECT priority, run_at, id FROM ready WHERE queue = :q2 AND run_at <= :n "
                      "ORDER BY priority, run_at, id LIMIT :l) RETURNING id, priority, run_at, attempt",
       into(c_id), into(c_priority), into(c_run_at), into(c_attempt), use(queue), use(queue),
       use(now), use(limit))};
  soci::statement insert_lease{(sql.prepare << "INSERT INTO leases (worker, lease_until) "
                                               "VALUES (:w, :u)",
                                use(worker), use(lease_until))};
  soci::statement insert_running{(sql.prepare << "INSERT INTO running (id, queue, priority, attempt, "
                                                 "lease_id, attempted_at) "
                                                 "VALUES (:id, :q, :p, :a, :l, :t)",
                                  use(id), use(queue), use(priority), use(attempt), use(lease),
                                  use(now))};
  soci::statement read_job{(sql.prepare << "SELECT kind, payload, max_attempts, created_at FROM jobs "
                                           "WHERE id = :id",
                            into(kind), into(payload), into(max_attempts), into(created_at), use(id))};

  // complete
  long long attempted_at = 0, at = 0;
  soci::indicator attempted_ind = soci::i_ok;
  std::string state, note;
  soci::statement read_running{(sql.prepare << "SELECT queue, priority, attempted_at FROM running "
                                               "WHERE id = :id AND lease_id = :l",
                                into(queue), into(priority), into(attempted_at, attempted_ind),
                                use(id), use(lease))};
  soci::statement delete_running{
      (sql.prepare << "DELETE FROM running WHERE id = :id", use(id))};
  soci::statement insert_finished{
      (sql.prepare << "INSERT INTO finished (id, queue, state, attempt, attempted_at, finalized_at, "
                      "note) VALUES (:id, :q, :s, :a, :t, :f, :n)",
       use(id), use(queue), use(state), use(attempt), use(attempted_at, attempted_ind), use(at),
       use(note))};
  soci::statement insert_dead{
      (sql.prepare << "INSERT INTO dead_letter_jobs (id, queue, attempt, attempted_at, dead_at, "
                      "last_error) VALUES (:id, :q, :a, :t, :d, :e)",
       use(id), use(queue), use(attempt), use(attempted_at, attempted_ind), use(at), use(note))};
  soci::statement insert_error{
      (sql.prepare << "INSERT INTO job_errors (job_id, seq, attempt, at, message) VALUES (:id, "
                      "(SELECT COALESCE(MAX(seq), 0) + 1 FROM job_errors WHERE job_id = :id2), "
                      ":a, :t, :m)",
       use(id), use(id), use(attempt), use(at), use(note))};
  soci::statement drop_lease{(sql.prepare << "DELETE FROM leases WHERE id = :l AND NOT EXISTS "
                                             "(SELECT 1 FROM running WHERE lease_id = :l2)",
                              use(lease), use(lease))};
  soci::statement renew_lease{
      (sql.prepare << "UPDATE leases SET lease_until = :u WHERE id = :l", use(lease_until),
       use(lease))};
};

namespace {

std::string_view finished_state(jobs::transition::to t) {
  return t == jobs::transition::to::completed ? "completed" : "cancelled";
}

}  // namespace

sqlite_store::sqlite_store(const std::string& path) : path_(path) {
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
    *sql_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
             "name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
    int applied = 0;
    for (const auto& m : sqlite_migrations()) {
      transaction_guard tx(*sql_);
      int present = 0;
      *sql_ << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", into(present),
          use(m.version);
      if (present) continue;  // the guard rolls the empty transaction back
      // SOCI prepares one statement at a time and the migration holds several (so no ";" in
      // its comments).
      std::string_view rest = m.sql;
      while (!rest.empty()) {
        auto end = rest.find(';');
        std::string stmt(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        if (stmt.find_first_not_of(" \n\t") == std::string::npos) continue;
        *sql_ << stmt;
      }
      long long now_us = to_us(jobs::now());
      std::string name(m.name);
      *sql_ << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
          use(m.version), use(name), use(now_us);
      tx.commit();
      ++applied;
    }
    migrated_ = true;
    return applied;
  } catch (const std::exception& e) {
    throw store_error("migrating '" + path_ + "' failed: " + e.what());
  }
}

void sqlite_store::prepare() {
  if (!migrated_) migrate();
  try {
    st_ = std::make_unique<statements>(*sql_);
  } catch (const std::exception& e) {
    throw store_error("preparing statements on '" + path_ + "' failed: " + e.what());
  }
}

std::vector<insert_result> sqlite_store::insert(std::span<const jobs::new_job> batch, time_point now) {
  return write("enqueue", true, [&] {
    auto& s = *st_;
    auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
    std::vector<insert_result> out;
    out.reserve(batch.size());
    for (const auto& j : batch) {
      if (j.unique_key) {
        s.key = *j.unique_key;
        s.find_pending_key.execute(true);
        if (s.find_pending_key.got_data()) {
          out.push_back({s.found, true});
          continue;
        }
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
  return write("claim", false, [&] {
    auto& s = *st_;
    auto* conn = static_cast<soci::sqlite3_session_backend*>(sql_->get_backend())->conn_;
    s.queue = queue;
    s.now = to_us(now);
    s.limit = limit;
    // Row by row: SOCI 4.0.3's vector into() truncates 64-bit integers on SQLite. Fetching to the
    // end also finishes the statement before COMMIT.
    std::vector<jobs::claimed_job> out;
    out.reserve(limit);
    s.take_ready.execute(false);
    while (s.take_ready.fetch()) {
      jobs::claimed_job c;
      c.id = s.c_id;
      c.queue = queue;
      c.priority = s.c_priority;
      c.run_at = from_us(s.c_run_at);
      c.attempt = s.c_attempt + 1;
      out.push_back(std::move(c));
    }
    if (out.empty()) return out;

    s.worker = worker;
    s.lease_until = to_us(lease_until);
    s.insert_lease.execute(true);
    s.lease = sqlite_api::sqlite3_last_insert_rowid(conn);

    for (auto& c : out) {
      c.lease = s.lease;
      s.id = c.id;
      s.priority = c.priority;
      s.attempt = c.attempt;
      s.insert_running.execute(true);
      s.read_job.execute(true);
      c.kind = s.kind;
      c.payload = s.payload;
      c.max_attempts = s.max_attempts;
      c.created_at = from_us(s.created_at);
    }
    // RETURNING gives no order; hand jobs out in claim order.
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.priority, a.run_at, a.id) < std::tie(b.priority, b.run_at, b.id);
    });
    return out;
  });
}

std::vector<job_id> sqlite_store::complete(std::span<const jobs::completion> batch) {
  if (batch.empty()) return {};
  return write("complete", false, [&] {
    auto& s = *st_;
    std::vector<job_id> stale;
    std::set<lease_id> leases;
    using to = jobs::transition::to;
    for (const auto& c : batch) {
      s.id = c.id;
      s.lease = c.lease;
      s.read_running.execute(true);
      if (!s.read_running.got_data()) {
        stale.push_back(c.id);
        continue;
      }
      leases.insert(c.lease);
      s.delete_running.execute(true);
      const auto& t = c.change;
      s.attempt = t.attempt;
      s.at = to_us(t.at);
      s.note = t.note;
      switch (t.next) {
        case to::completed:
        case to::cancelled:
          s.state = finished_state(t.next);
          s.insert_finished.execute(true);
          break;
        case to::retry:
        case to::requeue:
          s.run_at = to_us(t.run_at);
          s.insert_ready.execute(true);
          break;
        case to::dead:
          s.insert_dead.execute(true);
          break;
      }
      if (t.error) {
        s.attempt = t.error->attempt;
        s.at = to_us(t.error->at);
        s.note = t.error->message;
        s.insert_error.execute(true);
      }
    }
    for (auto l : leases) {
      s.lease = l;
      s.drop_lease.execute(true);
    }
    return stale;
  });
}

void sqlite_store::renew(std::span<const lease_id> leases, time_point until) {
  if (leases.empty()) return;
  write("renew leases", false, [&] {
    st_->lease_until = to_us(until);
    for (auto l : leases) {
      st_->lease = l;
      st_->renew_lease.execute(true);
    }
  });
}

std::vector<expired_job> sqlite_store::expired(time_point now, int limit) {
  return read("find expired leases", [&] {
    std::vector<expired_job> out;
    expired_job e;
    long long id = 0, lease = 0, now_us = to_us(now);
    soci::statement st = (sql_->prepare << "SELECT r.id, r.lease_id, j.kind, r.queue, r.attempt, "
                                           "j.max_attempts FROM leases l "
                                           "JOIN running r ON r.lease_id = l.id "
                                           "JOIN jobs j ON j.id = r.id "
                                           "WHERE l.lease_until < :n LIMIT :l",
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

std::optional<time_point> sqlite_store::next_due(const std::string& queue, time_point now) {
  return read("find next due job", [&]() -> std::optional<time_point> {
    long long at = 0, now_us = to_us(now);
    soci::indicator ind = soci::i_null;
    *sql_ << "SELECT MIN(run_at) FROM ready WHERE queue = :q AND run_at > :n", into(at, ind),
        use(queue), use(now_us);
    if (ind != soci::i_ok) return std::nullopt;
    return from_us(at);
  });
}

std::vector<job_id> sqlite_store::cancel_requests() {
  return read("read cancel requests", [&] {
    std::vector<job_id> out;
    long long id = 0;
    int running = 0;
    bool stale = false;
    soci::statement st = (sql_->prepare << "SELECT c.job_id, r.id IS NOT NULL FROM cancel_requests c "
                                           "LEFT JOIN running r ON r.id = c.job_id",
                          into(id), into(running));
    st.execute();
    while (st.fetch()) {
      if (running)
        out.push_back(id);
      else
        stale = true;
    }
    if (stale) {
      write("drop stale cancel requests", false, [&] {
        *sql_ << "DELETE FROM cancel_requests WHERE job_id NOT IN (SELECT id FROM running)";
      });
    }
    return out;
  });
}

}  // namespace spool::store
