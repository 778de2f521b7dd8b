// spool::enqueue on the application's session (<spool/transactional.hpp>): the stores' own
// insert code (sqlite_insert, pg_insert) prepared on that session, inside its transaction.
#include <spool/transactional.hpp>

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <stdexcept>
#include <string>

#include "jobs/validation.hpp"
#include "persistence/pg_insert.hpp"
#include "persistence/sqlite_insert.hpp"

namespace spool {

namespace {

std::vector<jobs::enqueue_result> insert_on(soci::session& app, std::span<const jobs::new_job> batch) {
  const std::string backend = app.get_backend_name();
  auto* connection = app.get_backend();
  if (!connection) throw std::logic_error("spool::enqueue: the session is not connected");
  const auto now = jobs::now();
  if (backend == "sqlite3") {
    auto* db = static_cast<soci::sqlite3_session_backend*>(connection)->conn_;
    if (sqlite_api::sqlite3_get_autocommit(db))
      throw std::logic_error("spool::enqueue: no transaction is open on the session (BEGIN first)");
    store::sqlite_insert insert(db);
    return insert.rows(batch, now);
  }
  if (backend == "postgresql") {
    auto* conn = static_cast<soci::postgresql_session_backend*>(connection)->conn_;
    if (PQtransactionStatus(conn) == PQTRANS_IDLE)
      throw std::logic_error("spool::enqueue: no transaction is open on the session (BEGIN first)");
    store::pg_insert insert(app);
    return insert.rows(batch, now);
  }
  throw std::logic_error("spool::enqueue: Spool stores jobs in sqlite3 or postgresql, not " + backend);
}

}  // namespace

std::vector<jobs::enqueue_result> enqueue(soci::session& app, std::span<const jobs::new_job> batch) {
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (auto why = jobs::check(batch[i]))
      throw std::invalid_argument(batch.size() == 1 ? *why : "job " + std::to_string(i) + ": " + *why);
  if (batch.empty()) return {};
  if (store::any_dependencies(batch))
    throw std::invalid_argument("jobs with dependencies (depends_on, needs) are enqueued by the runtime, "
                                "not in the application's transaction");
  try {
    return insert_on(app, batch);
  } catch (const std::logic_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store::store_error(std::string("enqueue in the application's transaction failed: ") +
                             e.what());
  }
}

jobs::enqueue_result enqueue(soci::session& app, const jobs::new_job& job) {
  return enqueue(app, std::span(&job, 1)).front();
}

}  // namespace spool
