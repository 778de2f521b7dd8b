#pragma once
// Private to persistence/: the PostgreSQL enqueue, on any session to a migrated database: the
// store's own, or an application's inside the application's transaction (<spool/transactional.hpp>).
// One text for both, so that a job enqueued either way is stored, keyed, counted and announced
// alike.
#include <soci/soci.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace spool::store {

class pg_insert {
 public:
  // Each statement is prepared on `sql` when first needed (an application's one-off enqueue
  // prepares only what its jobs use), then reused. Throws what SOCI throws (e.g. on a database
  // not migrated).
  explicit pg_insert(soci::session& sql) : sql_(sql) {}

  // Inside a transaction on the session: ids first (so results keep the batch's order), then
  // unique keys one by one under a per-key lock, then all new jobs and their counts in one
  // statement, then a NOTIFY per queue with a job due now, which PostgreSQL delivers at commit
  // (to every node LISTENing: their producers claim at once) and drops at rollback.
  std::vector<insert_result> rows(std::span<const jobs::new_job> batch, time_point now);
  // NOTIFYs the channel the runtimes listen on (notify_channel) with `payload`.
  void notify(const std::string& payload);

 private:
  int n_ = 0;
  long long id_ = 0, found_ = 0, created_at_ = 0;
  std::string key_, jobs_json_, payload_;
  soci::session& sql_;
  std::optional<soci::statement> alloc_ids_, lock_key_, find_key_holder_, hold_key_, insert_jobs_,
      notify_;
};

}  // namespace spool::store
