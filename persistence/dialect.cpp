#include "persistence/dialect.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <stdexcept>
#include <string>

namespace spool::store {

const dialect sqlite_dialect{
    .backend = backend::sqlite,
    .begin_write = "BEGIN IMMEDIATE",
    .begin_read = "BEGIN",
    .writer_lock = "",
    .unique_key_lock = "",
    .id_list = "SELECT value FROM json_each(:ids)",
    .count_tables = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :t",
    .count_shard = "0",
    .migration_text = &migration::sqlite,
};

const dialect postgres_dialect{
    .backend = backend::postgresql,
    .begin_write = "BEGIN",
    .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    .writer_lock = "SELECT pg_advisory_xact_lock(:k)",
    .unique_key_lock = "SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))",
    .id_list = "SELECT CAST(jsonb_array_elements_text(CAST(:ids AS jsonb)) AS bigint)",
    .count_tables = "SELECT COUNT(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_name = :t",
    .count_shard = "pg_backend_pid() % 16",
    .migration_text = &migration::postgresql,
};

const dialect& dialect_of(backend b) {
  return b == backend::postgresql ? postgres_dialect : sqlite_dialect;
}

std::unique_ptr<soci::session> open_session(const location& where, std::string_view application) {
  if (where.backend == backend::sqlite) {
    auto s = std::make_unique<soci::session>(soci::sqlite3, where.connection);
    std::string mode;
    *s << "PRAGMA journal_mode=WAL", soci::into(mode);
    // An in-memory database keeps its journal in memory: WAL does not apply (the runtime says so
    // in its log when it starts).
    if (mode != "wal" && !(where.in_memory && mode == "memory"))
      throw std::runtime_error("could not switch to WAL mode (got '" + mode + "')");
    return s;
  }
  auto s = std::make_unique<soci::session>(soci::postgresql, where.connection);
  *s << "SET client_min_messages = warning";
  *s << "SET application_name = '" + std::string(application) + "'";
  // A claim, completion or result lost to a server crash only means a rerun; a durable write
  // (an enqueue, an operator's action) asks for the disk in its own transaction.
  *s << "SET synchronous_commit = off";
  return s;
}

bool session_lost(soci::session& s) {
  // By name, not dynamic_cast: Debian's SOCI libraries do not export their backends' typeinfo.
  if (s.get_backend_name() != "postgresql") return false;
  auto* conn = static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
  return !conn || PQstatus(conn) != CONNECTION_OK;
}

}  // namespace spool::store
