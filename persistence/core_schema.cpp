// The store's own tables, each migration with its SQLite and PostgreSQL text side by side.
//
// What a job costs is, as measured, how many pages it dirties: so its immutable part is written
// once to `jobs`, and its hot state lives in small tables that claim and complete touch at their
// heads. Every job is in exactly one of ready, running, finished, dead_letter_jobs. Finished rows
// never enter `ready`, so its key holds only waiting jobs however many finished ones accumulate.
// Times are microseconds since the Unix epoch.
//
// Version 2 was the AI kinds' tables when everything was one list; they are now the first
// migration of the "ai" schema (kinds/ai/schema.cpp), and the number stays unused here, so that
// databases made before keep their numbers (see migration::legacy_version).
#include "persistence/schema.hpp"

namespace spool::store {
namespace {

constexpr std::string_view v1_sqlite = R"sql(
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
-- The job named as a unique key's holder (whether it holds it: jobs/unique.hpp, migration 5).
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

// The same tables. `jobs_id_seq` is named: an enqueue takes its ids from it before inserting.
// The hot tables are vacuumed early: their rows come and go all the time.
constexpr std::string_view v1_postgresql = R"sql(
CREATE SEQUENCE jobs_id_seq;
CREATE TABLE jobs (
  id           BIGINT  PRIMARY KEY DEFAULT nextval('jobs_id_seq'),
  kind         TEXT    NOT NULL,
  queue        TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  unique_key   TEXT,
  created_at   BIGINT  NOT NULL
);
ALTER SEQUENCE jobs_id_seq OWNED BY jobs.id;
CREATE TABLE ready (
  queue    TEXT    NOT NULL,
  priority INTEGER NOT NULL,
  run_at   BIGINT  NOT NULL,
  id       BIGINT  NOT NULL,
  attempt  INTEGER NOT NULL,
  PRIMARY KEY (queue, priority, run_at, id)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500);
CREATE UNIQUE INDEX ready_by_id ON ready (id);
CREATE TABLE leases (
  id          BIGSERIAL PRIMARY KEY,
  worker      TEXT      NOT NULL,
  lease_until BIGINT    NOT NULL
);
CREATE INDEX leases_by_expiry ON leases (lease_until);
CREATE TABLE running (
  id           BIGINT  PRIMARY KEY,
  queue        TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  lease_id     BIGINT  NOT NULL,
  attempted_at BIGINT  NOT NULL,
  due_at       BIGINT  NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500);
CREATE INDEX running_by_lease ON running (lease_id);
CREATE TABLE finished (
  id           BIGINT  PRIMARY KEY,
  queue        TEXT    NOT NULL,
  state        TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  attempted_at BIGINT,
  finalized_at BIGINT  NOT NULL,
  note         TEXT
);
CREATE TABLE dead_letter_jobs (
  id           BIGINT  PRIMARY KEY,
  queue        TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  attempted_at BIGINT,
  dead_at      BIGINT  NOT NULL,
  last_error   TEXT    NOT NULL
);
CREATE TABLE job_errors (
  job_id  BIGINT  NOT NULL,
  seq     INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at      BIGINT  NOT NULL,
  message TEXT    NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE unique_keys (
  key    TEXT   PRIMARY KEY,
  job_id BIGINT NOT NULL
);
CREATE TABLE cancel_requests (
  job_id       BIGINT PRIMARY KEY,
  requested_at BIGINT NOT NULL
)
)sql";

// Nodes sharing the database, and which of them runs the maintenance work. One text for both:
// SQLite stores BIGINT columns as it stores INTEGER ones.
constexpr std::string_view v3 = R"sql(
CREATE TABLE leadership (
  name       TEXT   PRIMARY KEY,
  node       TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE nodes (
  id           TEXT   PRIMARY KEY,
  host         TEXT   NOT NULL,
  pid          BIGINT NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  queues       TEXT   NOT NULL  -- JSON array of queue names
)
)sql";

// SQLite claims read the ready set by key range and its completions find running jobs by id, so
// nothing there looks running jobs up by lease any more; a lease counts its jobs instead, and goes
// with its last one (docs/benchmarks.md has the measurements). The index goes after the count,
// which looks running jobs up by lease.
constexpr std::string_view v4_sqlite = R"sql(
ALTER TABLE leases ADD COLUMN remaining INTEGER NOT NULL DEFAULT 0;
UPDATE leases SET remaining = (SELECT COUNT(*) FROM running WHERE running.lease_id = leases.id);
DROP INDEX running_by_lease
)sql";

// Nothing on PostgreSQL: its round deletes a lease when no running job is left under it, found
// through running_by_lease, so it keeps that index and needs no count.
constexpr std::string_view v4_postgresql = "";

// Counts by queue and state, kept by the transactions that move jobs (the store adds each
// statement's changes to them), so that counting costs the same with ten jobs as with ten
// million. "waiting" is everything in `ready`: scheduled, available and retrying differ only by
// time, and count() splits them by reading the not-yet-due part of `ready`. PostgreSQL spreads
// each count over shards (a connection writes the shard of its backend) so that nodes claiming
// from one queue do not queue up behind one row; the reader sums them. Filled from the rows
// present when it runs. The indexes serve the pruner: finished and dead jobs by age, and a
// pruned job's unique key. Version 5 is left to the unique keys and periodic jobs work.
constexpr std::string_view v6_sqlite = R"sql(
CREATE TABLE job_counts (
  queue TEXT    NOT NULL,
  state TEXT    NOT NULL,  -- waiting | running | completed | cancelled | dead
  shard INTEGER NOT NULL,
  n     INTEGER NOT NULL,
  PRIMARY KEY (queue, state, shard)
) WITHOUT ROWID;
INSERT INTO job_counts (queue, state, shard, n)
  SELECT queue, 'waiting', 0, COUNT(*) FROM ready GROUP BY queue
  UNION ALL SELECT queue, 'running', 0, COUNT(*) FROM running GROUP BY queue
  UNION ALL SELECT queue, state, 0, COUNT(*) FROM finished GROUP BY queue, state
  UNION ALL SELECT queue, 'dead', 0, COUNT(*) FROM dead_letter_jobs GROUP BY queue;
CREATE INDEX finished_by_age ON finished (state, finalized_at);
CREATE INDEX dead_by_age ON dead_letter_jobs (dead_at);
CREATE INDEX unique_keys_by_job ON unique_keys (job_id)
)sql";

// fillfactor leaves room on each page so that an update of a count stays a HOT update there.
constexpr std::string_view v6_postgresql = R"sql(
CREATE TABLE job_counts (
  queue TEXT    NOT NULL,
  state TEXT    NOT NULL,
  shard INTEGER NOT NULL,
  n     BIGINT  NOT NULL,
  PRIMARY KEY (queue, state, shard)
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
INSERT INTO job_counts (queue, state, shard, n)
  SELECT queue, 'waiting', 0, COUNT(*) FROM ready GROUP BY queue
  UNION ALL SELECT queue, 'running', 0, COUNT(*) FROM running GROUP BY queue
  UNION ALL SELECT queue, state, 0, COUNT(*) FROM finished GROUP BY queue, state
  UNION ALL SELECT queue, 'dead', 0, COUNT(*) FROM dead_letter_jobs GROUP BY queue;
CREATE INDEX finished_by_age ON finished (state, finalized_at);
CREATE INDEX dead_by_age ON dead_letter_jobs (dead_at);
CREATE INDEX unique_keys_by_job ON unique_keys (job_id)
)sql";

// Unique keys that hold in the states each job chose (jobs/unique.hpp): a job records its choice
// (NULL: the default states, nothing after completion), and the row in unique_keys names the
// holder, which an enqueue checks against where that job is now. Jobs are listed by key through
// a partial index that jobs without a key do not enter. `periodic` remembers, per schedule, the
// last tick enqueued: a tick is enqueued only by moving it forward, in the enqueue's transaction.
// One text for both: SQLite stores BIGINT columns as it stores INTEGER ones.
constexpr std::string_view v5 = R"sql(
ALTER TABLE jobs ADD COLUMN unique_states INTEGER;
ALTER TABLE jobs ADD COLUMN unique_for BIGINT;
CREATE INDEX jobs_by_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
CREATE TABLE periodic (
  name        TEXT   PRIMARY KEY,
  last_tick   BIGINT NOT NULL,
  last_job_id BIGINT
)
)sql";

// Each node publishes the kinds it runs, so that an enqueue (from any node or the CLI) can refuse a
// kind no live node serves. One text for both dialects; older rows serve nothing until their next
// heartbeat (a third of the leader TTL).
constexpr std::string_view v7 = R"sql(
ALTER TABLE nodes ADD COLUMN kinds TEXT NOT NULL DEFAULT '[]'
)sql";

// Results that handlers return with their success, written by the completion that is accepted
// (the lease still held) and deleted with the job. A table apart, so that jobs without a result
// (most) pay nothing for it.
constexpr std::string_view v8_sqlite = R"sql(
CREATE TABLE job_results (
  job_id INTEGER PRIMARY KEY,
  result TEXT NOT NULL
)
)sql";

constexpr std::string_view v8_postgresql = R"sql(
CREATE TABLE job_results (
  job_id BIGINT PRIMARY KEY,
  result JSONB  NOT NULL
)
)sql";

// Each attempt's node, and a failed attempt's start, for the dashboard's attempt timeline:
// copied from the running row and its lease by the completion that records the error or the
// finished job. Older rows keep NULLs.
constexpr std::string_view v9 = R"sql(
ALTER TABLE job_errors ADD COLUMN started_at BIGINT;
ALTER TABLE job_errors ADD COLUMN node TEXT;
ALTER TABLE finished ADD COLUMN node TEXT
)sql";

// A running attempt's latest progress report (job_context::progress), kept in its running row:
// written by the progress keeper, fenced by the lease, and gone with the row when the attempt
// ends, so that nothing has to clear it. Older rows have NULLs, as do attempts that never report.
constexpr std::string_view v10 = R"sql(
ALTER TABLE running ADD COLUMN progress DOUBLE PRECISION;
ALTER TABLE running ADD COLUMN progress_note TEXT;
ALTER TABLE running ADD COLUMN progress_at BIGINT
)sql";

// Flow control that every node sharing the database honours. `queue_settings` holds a queue's
// pause (runtime::pause), read by each node once per poll interval; a row outlives the queue's
// jobs, and resuming keeps it (paused = 0). A job's snooze tally (how many snoozes, their delays
// summed in microseconds) is checked against its kind's snooze ceiling: the claim reads it with
// the job, and only a completion that snoozes writes it. One text for both dialects.
constexpr std::string_view v11 = R"sql(
CREATE TABLE queue_settings (
  queue      TEXT    PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT  NOT NULL
);
ALTER TABLE jobs ADD COLUMN snoozes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN snoozed_us BIGINT NOT NULL DEFAULT 0
)sql";

// Dependencies (new_job::depends_on). A pending job waits in `ready` with run_at at the largest
// value (never due: claims pass over it, nothing counts it as scheduled) and `waiting` holding how
// many of its parents have not ended yet; the transaction that ends the last one sets its run_at
// (ready_pending finds the few pending jobs for the leader's check). A completion finds a job's
// dependants by the edges' key (parent first), one probe each. A dependant's jobs row records its
// on_parent_failure (0 cancel, 1 run; NULL: no parents). The edges are kept until the jobs are
// pruned: a dependant reads its parents' results through them.
constexpr std::string_view v12 = R"sql(
ALTER TABLE ready ADD COLUMN waiting INTEGER;
ALTER TABLE jobs ADD COLUMN on_parent_failure INTEGER;
CREATE TABLE job_dependencies (
  parent_id BIGINT NOT NULL,
  child_id  BIGINT NOT NULL,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX job_dependencies_by_child ON job_dependencies (child_id, parent_id);
CREATE INDEX ready_pending ON ready (id) WHERE run_at = 9223372036854775807
)sql";

}  // namespace

const schema& core_schema() {
  static const schema core{
      "core",
      {
          {1, "jobs, ready, running, finished, dead letters", v1_sqlite, v1_postgresql, 1},
          {3, "leadership and node registry", v3, v3, 3},
          {4, "leases count their running jobs (SQLite)", v4_sqlite, v4_postgresql, 4},
          {5, "unique keys held in chosen states; periodic schedules' last ticks", v5, v5, 0},
          {6, "job counts by queue and state; finished jobs by age", v6_sqlite, v6_postgresql, 0},
          {7, "nodes publish the kinds they run", v7, v7, 0},
          {8, "job results", v8_sqlite, v8_postgresql, 0},
          {9, "attempts' node, failed attempts' start", v9, v9, 0},
          {10, "running attempts' progress", v10, v10, 0},
          {11, "queue pause stored; jobs' snooze tallies", v11, v11, 0},
          {12, "job dependencies: pending jobs, their parents", v12, v12, 0},
      }};
  return core;
}

}  // namespace spool::store
