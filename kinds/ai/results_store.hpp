#pragma once
// What the built-in AI kinds produce: one analysis row per activity and one profile per user, in
// the same database as the jobs (the tables of kinds/ai/schema.hpp), SQLite or PostgreSQL.
// Blocking, one SOCI connection: run it on its own thread through serial_executor.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.hpp"
#include "persistence/database_url.hpp"
#include "persistence/store.hpp"

namespace soci {
class session;
}

namespace spool::store {
struct dialect;
}

namespace spool::kinds::ai {

struct activity_result {
  std::string activity_id;
  std::string user_id;
  std::string type;
  jobs::time_point occurred_at;
  std::string analysis;  // JSON object: summary, category, tags, sentiment
  std::string backend;   // which backend produced it ("local", "openai:MODEL")
  jobs::job_id job_id = 0;
  jobs::time_point processed_at;
  // Bumped, database-wide and monotonically, whenever the row's content changes: a profile records
  // the highest revision it has seen, which tells whether it is up to date.
  std::int64_t revision = 0;
};

struct profile_record {
  std::string user_id;
  std::string profile;  // JSON object: interests, activity_summary, traits
  std::int64_t version = 0;
  jobs::time_point generated_at;
  int source_count = 0;              // activities the profile was built from
  std::int64_t source_revision = 0;  // the user's highest activity revision when it was built
  std::string backend;
};

// A consistent view of one user's activities for building a profile.
struct profile_sources {
  std::vector<activity_result> latest;  // newest first (by occurred_at)
  std::int64_t revision = 0;            // highest revision of all the user's activities (0: none)
  std::optional<std::int64_t> profile_revision;  // source_revision of the current profile
};

enum class upsert_result { inserted, updated, unchanged };

class results_store {
 public:
  // The jobs database's URL, as store::open takes it ("sqlite:PATH" or "postgresql://..."). The
  // tables come from migrating the store with kinds::ai::schema(). Connects at once; throws
  // store_error if that fails. A PostgreSQL connection found dead after a failed call is reopened
  // by the next call.
  static std::unique_ptr<results_store> open(const std::string& url);
  explicit results_store(const std::string& url);
  ~results_store();

  // Keyed by activity_id. A row whose content is unchanged (a rerun of the same job) is left as
  // it is, revision included; otherwise it is replaced and gets a new revision.
  upsert_result upsert(const activity_result& r, jobs::time_point now);
  std::optional<activity_result> find_result(const std::string& activity_id);

  profile_sources sources(const std::string& user_id, int latest_n);

  // Writes the profile unless the stored one was built from sources at least as new
  // (source_revision): a slow, stale run never overwrites a fresher profile, and a rerun of the
  // same sources changes nothing. A write bumps the version. Returns the stored version.
  std::pair<upsert_result, std::int64_t> upsert(const profile_record& p);
  std::optional<profile_record> find_profile(const std::string& user_id);

  struct totals {
    std::int64_t results = 0;
    std::int64_t profiles = 0;
  };
  totals count();

 private:
  void connect();
  template <class F>
  auto guarded(const char* op, F&& f);

  store::location where_;
  const store::dialect& dialect_;
  std::unique_ptr<soci::session> sql_;
};

}  // namespace spool::kinds::ai
