#include "kinds/ai/schema.hpp"

namespace spool::kinds::ai {
namespace {

// One analysis per activity, one profile per user. `revision` is bumped database-wide on every
// change of a result, so a profile knows whether it is stale. One text for both dialects: SQLite
// stores BIGINT columns as it stores INTEGER ones, and no table here is keyed by SQLite's rowid.
constexpr std::string_view v1 = R"sql(
CREATE TABLE activity_results (
  activity_id  TEXT   PRIMARY KEY,
  user_id      TEXT   NOT NULL,
  type         TEXT   NOT NULL,
  occurred_at  BIGINT NOT NULL,
  analysis     TEXT   NOT NULL,  -- JSON: summary, category, tags, sentiment
  backend      TEXT   NOT NULL,
  job_id       BIGINT NOT NULL,
  processed_at BIGINT NOT NULL,
  revision     BIGINT NOT NULL
);
CREATE INDEX activity_results_latest ON activity_results (user_id, occurred_at);
CREATE INDEX activity_results_revision ON activity_results (user_id, revision);
CREATE INDEX activity_results_newest ON activity_results (revision);
CREATE TABLE profiles (
  user_id         TEXT    PRIMARY KEY,
  profile         TEXT    NOT NULL,  -- JSON: interests, activity_summary, traits
  version         BIGINT  NOT NULL,
  generated_at    BIGINT  NOT NULL,
  source_count    INTEGER NOT NULL,
  source_revision BIGINT  NOT NULL,
  backend         TEXT    NOT NULL
)
)sql";

// An analysis belongs to the job that wrote it, and goes when the pruner removes that job.
constexpr std::string_view v2 = R"sql(
CREATE INDEX activity_results_by_job ON activity_results (job_id)
)sql";

}  // namespace

const store::schema& schema() {
  // Legacy version 2: the single list of databases made before schemas were recorded by name
  // held these tables as its migration 2.
  static const store::schema ai{"ai",
                                {{1, "activity results and profiles", v1, v1, 2},
                                 {2, "activity results by job (pruned with it)", v2, v2, 0}},
                                {{"activity_results", "job_id"}}};
  return ai;
}

}  // namespace spool::kinds::ai
