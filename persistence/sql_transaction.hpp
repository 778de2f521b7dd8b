#pragma once
// A transaction on a SOCI session: begun with the dialect's statement, rolled back unless committed.
#include <soci/soci.h>

#include <string>

namespace spool::store::sql {

class transaction {
 public:
  // `begin`: "BEGIN IMMEDIATE" (SQLite writers), "BEGIN", "BEGIN ISOLATION LEVEL ...".
  transaction(soci::session& s, const std::string& begin) : sql_(s) { sql_ << begin; }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit() {
    sql_ << "COMMIT";
    done_ = true;
  }
  ~transaction() {
    if (done_) return;
    try {
      sql_ << "ROLLBACK";
    } catch (...) {  // the error that brought us here may have ended it, or the connection
    }
  }

 private:
  soci::session& sql_;
  bool done_ = false;
};

}  // namespace spool::store::sql
