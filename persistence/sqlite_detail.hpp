#pragma once
// Private to the SQLite store: transactions and error wrapping shared by its .cpp files.
#include <soci/soci.h>

#include <string>
#include <type_traits>

#include "persistence/sql_transaction.hpp"
#include "persistence/sqlite_store.hpp"

namespace spool::store {

// BEGIN IMMEDIATE: a writer takes the write lock up front (no deadlock upgrading a read lock).
struct transaction_guard : sql::transaction {
  explicit transaction_guard(soci::session& s) : sql::transaction(s, "BEGIN IMMEDIATE") {}
};


template <class F>
auto sqlite_store::write(const char* op, bool durable, F&& f) {
  if (!st_) prepare();
  try {
    set_synchronous(durable);
    transaction_guard tx(*sql_);
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      tx.commit();
    } else {
      auto result = f();
      tx.commit();
      return result;
    }
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
