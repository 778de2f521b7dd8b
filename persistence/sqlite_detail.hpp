#pragma once
// Private to the SQLite store: transactions and error wrapping shared by its .cpp files.
#include <soci/soci.h>

#include <string>

#include "persistence/sql_transaction.hpp"
#include "persistence/sqlite_statement.hpp"
#include "persistence/sqlite_store.hpp"

namespace spool::store {

// The statements every write uses, prepared once. BEGIN IMMEDIATE: a writer takes the write lock
// up front (no deadlock upgrading a read lock).
struct sqlite_store::transaction_statements {
  explicit transaction_statements(sqlite_api::sqlite3* db) : db(db) {}
  sqlite_api::sqlite3* db;
  sqlite_statement begin{db, "BEGIN IMMEDIATE"};
  sqlite_statement commit{db, "COMMIT"};
  sqlite_statement rollback{db, "ROLLBACK"};
};

// Rolls back unless committed.
class sqlite_store::transaction_guard {
 public:
  explicit transaction_guard(transaction_statements& tx) : tx_(tx) { tx_.begin.run(); }
  transaction_guard(const transaction_guard&) = delete;
  transaction_guard& operator=(const transaction_guard&) = delete;
  void commit() {
    tx_.commit.run();
    done_ = true;
  }
  ~transaction_guard() {
    if (done_) return;
    try {
      tx_.rollback.run();
    } catch (...) {  // the error that brought us here may have ended it already
    }
  }

 private:
  transaction_statements& tx_;
  bool done_ = false;
};

template <class F>
auto sqlite_store::write(const char* op, bool durable, F&& f) {
  if (!st_) prepare();
  try {
    set_synchronous(durable);
    transaction_guard tx(*tx_);
    return sql::commit_after(tx, f);
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error(std::string(op) + " failed on '" + path_ + "': " + e.what());
  }
}

template <class F>
auto sqlite_store::read(const char* op, F&& f) {
  if (!st_) prepare();
  try {
    return f();
  } catch (const std::exception& e) {
    throw store_error(std::string(op) + " failed on '" + path_ + "': " + e.what());
  }
}

}  // namespace spool::store
