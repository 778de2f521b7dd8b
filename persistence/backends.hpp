#pragma once
// The concrete stores, by their factories: store::open picks one by the URL. Their classes are
// private to persistence/ (sqlite_store.hpp, pg_store.hpp): nothing else includes them.
#include <memory>

#include "persistence/database_url.hpp"
#include "persistence/store.hpp"

namespace spool::store {

// `where` as located from a "sqlite:" URL: one connection to one SQLite file in WAL mode.
std::unique_ptr<store> open_sqlite(const location& where, const open_options& options);
// `where` as located from a "postgresql://" URL: one connection, reopened after it is lost.
std::unique_ptr<store> open_postgres(const location& where, const open_options& options);

}  // namespace spool::store
