#include <array>

#include "persistence/schema.hpp"

namespace spool::store {
namespace {

// The same layout as the SQLite schema (sqlite_schema.cpp): a cold `jobs` table written once,
// and a job's hot state in exactly one of ready, running, finished, dead_letter_jobs. Finished
// rows never enter `ready`, so its index holds only waiting jobs however many finished ones
// accumulate: what a partial index on one wide table would do, without the dead index entries
// that updates of such a table leave behind. Times are microseconds since the Unix epoch.
constexpr std::string_view v1 = R"sql(
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

constexpr std::string_view v2 = R"sql(
CREATE TABLE activity_results (
  activity_id  TEXT   PRIMARY KEY,
  user_id      TEXT   NOT NULL,
  type         TEXT   NOT NULL,
  occurred_at  BIGINT NOT NULL,
  analysis     TEXT   NOT NULL,
  backend      TEXT   NOT NULL,
  job_id       BIGINT NOT NULL,
  processed_at BIGINT NOT NULL,
  revision     BIGINT NOT NULL
);
CREATE INDEX activity_results_latest ON activity_results (user_id, occurred_at);
CREATE INDEX activity_results_revision ON activity_results (user_id, revision);
CREATE INDEX activity_results_newest ON activity_results (revision);
CREATE TABLE profiles (
  user_id         TEXT   PRIMARY KEY,
  profile         TEXT   NOT NULL,
  version         BIGINT NOT NULL,
  generated_at    BIGINT NOT NULL,
  source_count    INTEGER NOT NULL,
  source_revision BIGINT NOT NULL,
  backend         TEXT   NOT NULL
)
)sql";

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
  queues       TEXT   NOT NULL
)
)sql";

constexpr std::array<migration, 3> all{{
    {1, "jobs, ready, running, finished, dead letters", v1},
    {2, "activity results and profiles", v2},
    {3, "leadership and node registry", v3},
}};

}  // namespace

std::span<const migration> postgres_migrations() { return all; }

}  // namespace spool::store
