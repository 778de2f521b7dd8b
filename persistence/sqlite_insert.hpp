#pragma once
// Private to persistence/: the SQLite enqueue, on any connection to a migrated database: the
// store's own, or an application's inside the application's transaction (<spool/transactional.hpp>).
// One text for both, so that a job enqueued either way is stored, keyed and counted alike.
#include <span>
#include <vector>

#include "persistence/job_counts.hpp"
#include "persistence/sqlite_statement.hpp"
#include "persistence/store.hpp"

namespace spool::store {

class sqlite_insert {
 public:
  // Prepares the statements on `db`; throws sqlite_error (e.g. on a database not migrated).
  explicit sqlite_insert(sqlite_api::sqlite3* db);

  // Inside a write transaction on the connection: the jobs' rows, their unique keys and their
  // counts. Results keep the batch's order; a held key gives its holder's id, as a duplicate.
  std::vector<insert_result> rows(std::span<const jobs::new_job> batch, time_point now);
  // Adds changes to job_counts, inside the transaction that made them.
  void add_counts(const count_deltas& counts);

 private:
  sqlite_api::sqlite3* db_;
  sqlite_statement insert_job_, insert_ready_, find_key_holder_, hold_key_, add_count_;
};

}  // namespace spool::store
