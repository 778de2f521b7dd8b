#include "persistence/schema.hpp"

#include <array>

namespace spool::store {
namespace {

// Layout follows the measurements in docs/storage.md: a job's immutable part is written once to
// `jobs`; its hot state lives in small tables that claim and complete touch at their heads.
// Times are microseconds since the Unix epoch. Every job is in exactly one of ready, running,
// finished, dead_letter_jobs.
constexpr std::string_view v1 = R"sql(
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT    NOT NULL,
  queue        TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  unique_key   TEXT,
  created_at   INTEGER NOT NULL
);
-- Waiting jobs (scheduled, available, retrying), in claim order.
CREATE TABLE ready (
  queue    TEXT    NOT NULL,
  priority INTEGER NOT NULL,
  run_at   INTEGER NOT NULL,
  id       INTEGER NOT NULL,
  attempt  INTEGER NOT NULL,  -- attempts used so far
  PRIMARY KEY (queue, priority, run_at, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ready_by_id ON ready (id);
-- One lease per claimed batch: renewing a batch writes one row.
CREATE TABLE leases (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it fences stale workers
  worker      TEXT    NOT NULL,
  lease_until INTEGER NOT NULL
);
CREATE TABLE running (
  id           INTEGER PRIMARY KEY,
  queue        TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,  -- the attempt under way, 1-based
  lease_id     INTEGER NOT NULL,
  attempted_at INTEGER NOT NULL,
  due_at       INTEGER NOT NULL   -- the run_at it was claimed at
);
CREATE INDEX running_by_lease ON running (lease_id);
CREATE TABLE finished (
  id           INTEGER PRIMARY KEY,
  queue        TEXT    NOT NULL,
  state        TEXT    NOT NULL,  -- completed | cancelled
  attempt      INTEGER NOT NULL,
  attempted_at INTEGER,
  finalized_at INTEGER NOT NULL,
  note         TEXT
);
CREATE TABLE dead_letter_jobs (
  id           INTEGER PRIMARY KEY,
  queue        TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  attempted_at INTEGER,
  dead_at      INTEGER NOT NULL,
  last_error   TEXT    NOT NULL
);
CREATE TABLE job_errors (
  job_id  INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at      INTEGER NOT NULL,
  message TEXT    NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
-- The pending job that holds a unique key (a stale row is replaced by the next insert).
CREATE TABLE unique_keys (
  key    TEXT    PRIMARY KEY,
  job_id INTEGER NOT NULL
) WITHOUT ROWID;
-- Cancels asked for by another process for a job that is running.
CREATE TABLE cancel_requests (
  job_id       INTEGER PRIMARY KEY,
  requested_at INTEGER NOT NULL
);
)sql";

// What the built-in AI kinds write: one analysis per activity, one profile per user. `revision`
// is bumped database-wide on every change of a result, so a profile knows whether it is stale.
constexpr std::string_view v2 = R"sql(
CREATE TABLE activity_results (
  activity_id  TEXT    PRIMARY KEY,
  user_id      TEXT    NOT NULL,
  type         TEXT    NOT NULL,
  occurred_at  INTEGER NOT NULL,
  analysis     TEXT    NOT NULL,  -- JSON: summary, category, tags, sentiment
  backend      TEXT    NOT NULL,
  job_id       INTEGER NOT NULL,
  processed_at INTEGER NOT NULL,
  revision     INTEGER NOT NULL
);
CREATE INDEX activity_results_latest ON activity_results (user_id, occurred_at);
CREATE INDEX activity_results_revision ON activity_results (user_id, revision);
CREATE INDEX activity_results_newest ON activity_results (revision);
CREATE TABLE profiles (
  user_id         TEXT    PRIMARY KEY,
  profile         TEXT    NOT NULL,  -- JSON: interests, activity_summary, traits
  version         INTEGER NOT NULL,
  generated_at    INTEGER NOT NULL,
  source_count    INTEGER NOT NULL,
  source_revision INTEGER NOT NULL,
  backend         TEXT    NOT NULL
);
)sql";

// Nodes sharing the database, and which of them runs the maintenance work.
constexpr std::string_view v3 = R"sql(
CREATE TABLE leadership (
  name       TEXT    PRIMARY KEY,
  node       TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE nodes (
  id           TEXT    PRIMARY KEY,
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  queues       TEXT    NOT NULL  -- JSON array of queue names
);
)sql";

// Claims read the ready set by key range and completions find running jobs by id, so nothing
// looks running jobs up by lease any more; a lease counts its jobs instead, and goes with its
// last one (docs/benchmarks.md has the measurements). The index goes after the count, which
// looks running jobs up by lease.
constexpr std::string_view v4 = R"sql(
ALTER TABLE leases ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;
UPDATE leases SET remaining = (SELECT COUNT(*) FROM running WHERE running.lease_id = leases.id);
DROP INDEX running_by_lease;
)sql";

constexpr std::array<migration, 4> all{{
    {1, "jobs, ready, running, finished, dead letters", v1},
    {2, "activity results and profiles", v2},
    {3, "leadership and node registry", v3},
    {4, "leases count their running jobs; no running_by_lease index", v4},
}};

}  // namespace

std::span<const migration> sqlite_migrations() { return all; }

}  // namespace spool::store
