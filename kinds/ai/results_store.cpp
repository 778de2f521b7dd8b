#include "kinds/ai/results_store.hpp"

#include <soci/soci.h>

#include "persistence/dialect.hpp"
#include "persistence/sql_transaction.hpp"
#include "persistence/time_codec.hpp"

namespace spool::kinds::ai {

using soci::into;
using soci::use;

namespace {

// Taken first by every transaction that writes an activity result ("spoolrev"; the dialect's
// writer_lock). Writers then run one after another, so a revision computed as MAX(revision) + 1
// is unique and revisions become visible in the order they are numbered. A sequence would give
// unique numbers but not that order: a reader could see revision 6 committed before 5, build a
// profile at 6, and then count it fresh when 5 appears. Result writes are one short upsert, so
// waiting is cheap.
constexpr long long revision_lock = 0x73706f6f6c726576LL;

using store::sql::transaction;

constexpr const char* result_columns =
    "activity_id, user_id, type, occurred_at, analysis, backend, job_id, processed_at, revision";

// Bound variables of one activity_results row.
struct result_row {
  std::string activity_id, user_id, type, analysis, backend;
  long long occurred_at = 0, job_id = 0, processed_at = 0, revision = 0;

  void bind(soci::statement& st) {
    st.exchange(into(activity_id));
    st.exchange(into(user_id));
    st.exchange(into(type));
    st.exchange(into(occurred_at));
    st.exchange(into(analysis));
    st.exchange(into(backend));
    st.exchange(into(job_id));
    st.exchange(into(processed_at));
    st.exchange(into(revision));
  }
  activity_result value() const {
    return {activity_id, user_id, type,         store::from_us(occurred_at), analysis,
            backend,     job_id,  store::from_us(processed_at), revision};
  }
};

}  // namespace

std::unique_ptr<results_store> results_store::open(const std::string& url) {
  return std::make_unique<results_store>(url);
}

// The same URL rules as store::open, which owns the jobs' connection.
results_store::results_store(const std::string& url)
    : where_(store::locate(url)), dialect_(store::dialect_of(where_.backend)) {
  connect();
}

results_store::~results_store() = default;

void results_store::connect() {
  sql_.reset();
  try {
    // Results commit without waiting for the disk (on PostgreSQL open_session sees to that):
    // commits are flushed in order, so the job's completion, committed after its result, never
    // survives a crash that the result does not, and a lost result only means a rerun.
    sql_ = store::open_session(where_, "spool-results");
    if (where_.backend == store::backend::sqlite) *sql_ << "PRAGMA synchronous=NORMAL";
  } catch (const std::exception& e) {
    sql_.reset();
    throw store::store_error("cannot open results database '" + where_.shown + "': " + e.what());
  }
}

template <class F>
auto results_store::guarded(const char* op, F&& f) {
  try {
    if (!sql_) connect();  // reopens a PostgreSQL connection lost earlier
    return f();
  } catch (const std::exception& e) {
    // A dead connection is dropped, so that the next call reconnects instead of failing forever.
    if (sql_ && store::session_lost(*sql_)) sql_.reset();
    if (dynamic_cast<const store::store_error*>(&e)) throw;
    throw store::store_error(std::string(op) + " failed on '" + where_.shown + "': " + e.what());
  }
}

upsert_result results_store::upsert(const activity_result& r, jobs::time_point now) {
  return guarded("saving activity result", [&] {
    auto& sql = *sql_;
    transaction tx(sql, std::string(dialect_.begin_write));
    if (!dialect_.writer_lock.empty()) sql << dialect_.writer_lock, use(revision_lock);
    // Read under the writers' lock, so no other writer can add the row in between.
    long long previous = 0;
    sql << "SELECT revision FROM activity_results WHERE activity_id = :a", into(previous),
        use(r.activity_id);
    const bool existed = sql.got_data();
    long long occurred = store::to_us(r.occurred_at), processed = store::to_us(now), job = r.job_id, revision = 0;
    // RETURNING yields a row when one was inserted or replaced, none when it was unchanged.
    sql << "INSERT INTO activity_results (activity_id, user_id, type, occurred_at, analysis, "
           "backend, job_id, processed_at, revision) VALUES (:a, :u, :t, :o, :an, :b, :j, :p, "
           "(SELECT COALESCE(MAX(revision), 0) + 1 FROM activity_results)) "
           "ON CONFLICT (activity_id) DO UPDATE SET user_id = excluded.user_id, "
           "type = excluded.type, occurred_at = excluded.occurred_at, "
           "analysis = excluded.analysis, backend = excluded.backend, job_id = excluded.job_id, "
           "processed_at = excluded.processed_at, revision = excluded.revision "
           "WHERE activity_results.user_id IS DISTINCT FROM excluded.user_id "
           "OR activity_results.type IS DISTINCT FROM excluded.type "
           "OR activity_results.occurred_at IS DISTINCT FROM excluded.occurred_at "
           "OR activity_results.analysis IS DISTINCT FROM excluded.analysis "
           "RETURNING revision",
        use(r.activity_id), use(r.user_id), use(r.type), use(occurred), use(r.analysis),
        use(r.backend), use(job), use(processed), into(revision);
    const bool changed = sql.got_data();
    tx.commit();
    if (!existed) return upsert_result::inserted;
    return changed ? upsert_result::updated : upsert_result::unchanged;
  });
}

std::optional<activity_result> results_store::find_result(const std::string& activity_id) {
  return guarded("reading activity result", [&]() -> std::optional<activity_result> {
    result_row row;
    soci::statement st(*sql_);
    st.alloc();
    st.prepare(std::string("SELECT ") + result_columns +
               " FROM activity_results WHERE activity_id = :a");
    row.bind(st);
    std::string id = activity_id;
    st.exchange(use(id));
    st.define_and_bind();
    if (!st.execute(true)) return std::nullopt;
    return row.value();
  });
}

profile_sources results_store::sources(const std::string& user_id, int latest_n) {
  return guarded("reading profile sources", [&] {
    auto& sql = *sql_;
    profile_sources out;
    transaction tx(sql, std::string(dialect_.begin_read));
    {
      // Row by row: SOCI 4.0.3's vector into() truncates 64-bit integers on SQLite.
      result_row row;
      soci::statement st(sql);
      st.alloc();
      st.prepare(std::string("SELECT ") + result_columns +
                 " FROM activity_results WHERE user_id = :u "
                 "ORDER BY occurred_at DESC, activity_id DESC LIMIT :n");
      row.bind(st);
      std::string user = user_id;
      int n = latest_n;
      st.exchange(use(user));
      st.exchange(use(n));
      st.define_and_bind();
      if (st.execute(true)) {
        do out.latest.push_back(row.value());
        while (st.fetch());
      }
    }
    long long revision = 0;
    sql << "SELECT COALESCE(MAX(revision), 0) FROM activity_results WHERE user_id = :u",
        into(revision), use(user_id);
    out.revision = revision;
    long long profile_revision = 0;
    soci::indicator found = soci::i_null;
    sql << "SELECT source_revision FROM profiles WHERE user_id = :u",
        into(profile_revision, found), use(user_id);
    if (sql.got_data() && found == soci::i_ok) out.profile_revision = profile_revision;
    tx.commit();
    return out;
  });
}

std::pair<upsert_result, std::int64_t> results_store::upsert(const profile_record& p) {
  return guarded("saving profile", [&] {
    auto& sql = *sql_;
    // No revision lock: the row's own conflict handling orders writers of one user's profile.
    transaction tx(sql, std::string(dialect_.begin_write));
    long long generated = store::to_us(p.generated_at), revision = p.source_revision, version = 0;
    int count = p.source_count;
    sql << "INSERT INTO profiles (user_id, profile, version, generated_at, source_count, "
           "source_revision, backend) VALUES (:u, :p, 1, :g, :c, :r, :b) "
           "ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile, "
           "version = profiles.version + 1, generated_at = excluded.generated_at, "
           "source_count = excluded.source_count, source_revision = excluded.source_revision, "
           "backend = excluded.backend "
           "WHERE excluded.source_revision > profiles.source_revision "
           "RETURNING version",
        use(p.user_id), use(p.profile), use(generated), use(count), use(revision), use(p.backend),
        into(version);
    const bool changed = sql.got_data();
    if (!changed)
      sql << "SELECT version FROM profiles WHERE user_id = :u", into(version), use(p.user_id);
    tx.commit();
    const auto what = !changed ? upsert_result::unchanged
                      : version == 1 ? upsert_result::inserted
                                     : upsert_result::updated;
    return std::pair{what, static_cast<std::int64_t>(version)};
  });
}

std::optional<profile_record> results_store::find_profile(const std::string& user_id) {
  return guarded("reading profile", [&]() -> std::optional<profile_record> {
    profile_record p;
    long long version = 0, generated = 0, revision = 0;
    int count = 0;
    *sql_ << "SELECT user_id, profile, version, generated_at, source_count, source_revision, "
             "backend FROM profiles WHERE user_id = :u",
        into(p.user_id), into(p.profile), into(version), into(generated), into(count),
        into(revision), into(p.backend), use(user_id);
    if (!sql_->got_data()) return std::nullopt;
    p.version = version;
    p.generated_at = store::from_us(generated);
    p.source_count = count;
    p.source_revision = revision;
    return p;
  });
}

results_store::totals results_store::count() {
  return guarded("counting results", [&] {
    long long results = 0, profiles = 0;
    *sql_ << "SELECT (SELECT COUNT(*) FROM activity_results), (SELECT COUNT(*) FROM profiles)",
        into(results), into(profiles);
    return totals{results, profiles};
  });
}

}  // namespace spool::kinds::ai
