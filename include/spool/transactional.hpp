#pragma once
// Transactional enqueue: an application that keeps its own data in the database its runtime uses
// (the same SQLite file, the same PostgreSQL database) enqueues jobs inside its own transaction,
// through its own SOCI session. The jobs exist if and only if that transaction commits.
//
//   soci::session app(soci::postgresql, "dbname=shop");     // or soci::sqlite3, "db=shop.db"
//   soci::transaction tx(app);                              // on SQLite: app << "BEGIN IMMEDIATE"
//   app << "INSERT INTO orders (id, total) VALUES (:id, :t)", soci::use(id), soci::use(total);
//   auto r = spool::enqueue(app, {.kind = "ship", .payload = R"({"order":42})"});
//   tx.commit();                                            // the order and its job, or neither
//
// The same SQL as the runtime's own enqueue runs on the application's session: job counts stay
// exact and unique keys are honoured (r.duplicate names the holder), in the application's
// transaction, which Spool neither commits nor rolls back. Runtimes on PostgreSQL wake at the
// commit (a NOTIFY sent in the transaction); on SQLite they find the job at their next poll
// (`poll_interval_s`), or at once after runtime::wake() in the same process.
#include <span>
#include <vector>

#include <spool/errors.hpp>
#include <spool/job.hpp>

namespace soci {
class session;
}

namespace spool {

// Enqueues `jobs` in the transaction open on `app`, a SOCI session (sqlite3 or postgresql) on a
// database a runtime has migrated. Results keep the batch's order. Throws std::invalid_argument
// for a job that fails validation (nothing of the batch is written), std::logic_error when no
// transaction is open on `app` or its backend is neither, and store::store_error for a database
// failure, after which the application should roll back (on PostgreSQL the transaction is
// aborted by then).
std::vector<jobs::enqueue_result> enqueue(soci::session& app, std::span<const jobs::new_job> jobs);
jobs::enqueue_result enqueue(soci::session& app, const jobs::new_job& job);

}  // namespace spool
