#pragma once
// Private to the PostgreSQL store: transactions and error wrapping shared by its .cpp files.
#include <soci/soci.h>

#include <string>

#include "persistence/pg_store.hpp"
#include "persistence/sql_transaction.hpp"

namespace spool::store {

// Every connection commits with synchronous_commit off by default (set at connect): a claim or a
// completion lost to a server crash only means a rerun, so it need not wait for the disk. A
// durable write (an enqueue, an operator's action) asks for the disk in its transaction.
struct pg_transaction : sql::transaction {
  pg_transaction(soci::session& s, bool durable) : sql::transaction(s, "BEGIN") {
    if (durable) s << "SET LOCAL synchronous_commit = on";
  }
};

template <class F>
auto pg_store::guarded(const char* op, F&& f) {
  try {
    ready();
    return f();
  } catch (const std::exception& e) {
    forget_dead_connection();
    if (dynamic_cast<const store_error*>(&e)) throw;
    throw store_error(std::string(op) + " failed on '" + shown_url_ + "': " + e.what());
  }
}

template <class F>
auto pg_store::write(const char* op, bool durable, F&& f) {
  return guarded(op, [&] {
    pg_transaction tx(*sql_, durable);
    return sql::commit_after(tx, f);
  });
}

}  // namespace spool::store
