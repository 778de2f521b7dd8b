#pragma once
// A prepared statement on the SQLite store's own connection, through SQLite's C API: the claim
// and completion path runs a few statements per round and reads one row per job, and SOCI's
// statement and row machinery cost as much there as SQLite itself. Everything else goes
// through SOCI.
#include <soci/sqlite3/soci-sqlite3.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace spool::store {

// What a statement reports; the store wraps it into a store_error naming the operation and the file.
struct sqlite_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class sqlite_statement {
 public:
  sqlite_statement(sqlite_api::sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite_api::sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                       SQLITE_PREPARE_PERSISTENT, &st_, nullptr) != SQLITE_OK)
      throw sqlite_error("preparing \"" + std::string(sql) + "\" failed: " + sqlite_api::sqlite3_errmsg(db));
  }
  ~sqlite_statement() { sqlite_api::sqlite3_finalize(st_); }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  sqlite_statement& bind(int i, long long v) {
    check(sqlite_api::sqlite3_bind_int64(st_, i, v));
    return *this;
  }
  sqlite_statement& bind_null(int i) {
    check(sqlite_api::sqlite3_bind_null(st_, i));
    return *this;
  }
  // The text must stay alive and unchanged until the statement is reset.
  sqlite_statement& bind(int i, std::string_view v) {
    check(sqlite_api::sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }

  // Steps to the next row; false when there is none, and the statement is reset (a statement
  // left on a row would hold a read snapshot open past COMMIT).
  bool step() {
    const int rc = sqlite_api::sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    sqlite_api::sqlite3_reset(st_);
    if (rc != SQLITE_DONE) fail(rc);
    return false;
  }
  // Runs a statement that returns no rows; returns how many rows it changed.
  int run() {
    while (step()) {
    }
    return sqlite_api::sqlite3_changes(db_);
  }
  void reset() { sqlite_api::sqlite3_reset(st_); }

  long long int64(int col) const { return sqlite_api::sqlite3_column_int64(st_, col); }
  bool null(int col) const { return sqlite_api::sqlite3_column_type(st_, col) == SQLITE_NULL; }
  std::string_view text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite_api::sqlite3_column_text(st_, col));
    return {p ? p : "", static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(st_, col))};
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(rc);
  }
  [[noreturn]] void fail(int) {
    throw sqlite_error(std::string(sqlite_api::sqlite3_errmsg(db_)) + " (in \"" +
                      sqlite_api::sqlite3_sql(st_) + "\")");
  }

  sqlite_api::sqlite3* db_;
  sqlite_api::sqlite3_stmt* st_ = nullptr;
};

// A write transaction on the store's connection through statements prepared once; rolls back
// unless committed.
class sqlite_transaction {
 public:
  struct statements {
    // `begin_sql`: the dialect's begin_write.
    statements(sqlite_api::sqlite3* db, std::string_view begin_sql)
        : begin(db, begin_sql), commit(db, "COMMIT"), rollback(db, "ROLLBACK") {}
    sqlite_statement begin, commit, rollback;
  };

  explicit sqlite_transaction(statements& tx) : tx_(tx) { tx_.begin.run(); }
  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;
  void commit() {
    tx_.commit.run();
    done_ = true;
  }
  ~sqlite_transaction() {
    if (done_) return;
    try {
      tx_.rollback.run();
    } catch (...) {  // the error that brought us here may have ended it already
    }
  }

 private:
  statements& tx_;
  bool done_ = false;
};

}  // namespace spool::store
