#pragma once
// Everything that differs between SQLite and PostgreSQL outside each store's own hot path, in
// one place: the stores' shared SQL, the migrations and the AI kinds' results store read it
// from here instead of asking which backend they are on.
#include <memory>
#include <string_view>

#include "persistence/database_url.hpp"
#include "persistence/schema.hpp"

namespace soci {
class session;
}

namespace spool::store {

struct dialect {
  spool::store::backend backend;
  // Begins a transaction that writes: writers take the write lock up front on SQLite (no
  // deadlock upgrading a read lock).
  std::string_view begin_write;
  // Begins a transaction of several reads that see one snapshot without blocking writers.
  std::string_view begin_read;
  // Serialises writers of one kind until commit, taking a 64-bit key bound as `:k`. Empty on
  // SQLite, where begin_write serialises every writer already.
  std::string_view writer_lock;
  // Serialises the writers that take one unique key (the key text bound as `:k`) until commit.
  // Empty on SQLite, for the same reason.
  std::string_view unique_key_lock;
  // A subquery yielding the integers of the JSON array bound as `:ids` (see id_array).
  std::string_view id_list;
  // Counts the tables named `:t` in the connection's schema.
  std::string_view count_tables;
  // The job_counts shard a connection writes (an SQL expression): one per backend on
  // PostgreSQL, so that concurrent writers of one queue's counts rarely wait for each other.
  std::string_view count_shard;
  // The text of a migration this dialect runs.
  std::string_view migration::*migration_text;
};

extern const dialect sqlite_dialect;
extern const dialect postgres_dialect;
const dialect& dialect_of(backend b);

// A connection to `where` with the settings every Spool connection shares: on SQLite WAL mode
// (and the busy timeout of its connection string); on PostgreSQL no NOTICEs, commits that do
// not wait for the disk unless a transaction asks (SET LOCAL synchronous_commit = on), and
// `application` as the name the server shows. Throws what SOCI throws.
std::unique_ptr<soci::session> open_session(const location& where, std::string_view application);

// Whether the session's connection is gone (a PostgreSQL server restarted, a network lost), so
// that the next call should reconnect instead of failing forever. A SQLite session is never lost.
bool session_lost(soci::session& s);

}  // namespace spool::store
