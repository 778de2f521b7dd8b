#pragma once
// A fresh, empty database for one test, on the backend named by SPOOL_STORE_BACKEND ("sqlite",
// the default, "sqlite_memory": a named in-memory SQLite database shared by the test's
// connections, or "postgresql"). PostgreSQL tests use the server at SPOOL_TEST_PG (scripts/test
// starts one): each scratch database is created there and dropped afterwards. Without
// SPOOL_TEST_PG a PostgreSQL test fails under CI (CI set) and is skipped elsewhere (exit 77,
// which ctest reports as skipped).
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "persistence/database_url.hpp"
#include "tests/support/temp_dir.hpp"

namespace spool::test {

inline bool memory_backend() {
  const char* b = std::getenv("SPOOL_STORE_BACKEND");
  return b && std::string(b) == "sqlite_memory";
}

inline bool postgres_backend() {
  const char* b = std::getenv("SPOOL_STORE_BACKEND");
  return b && std::string(b) == "postgresql";
}

// SPOOL_TEST_PG, or the end of the test run as described above.
inline std::string postgres_server_url() {
  if (const char* url = std::getenv("SPOOL_TEST_PG"); url && *url) return url;
  if (std::getenv("CI")) {
    std::fprintf(stderr, "SPOOL_TEST_PG is not set: CI must run PostgreSQL tests (scripts/test starts one)\n");
    std::exit(1);
  }
  std::fprintf(stderr, "skipped: SPOOL_TEST_PG is not set (scripts/test starts a PostgreSQL)\n");
  std::exit(77);
}

// `url` with its database name replaced.
inline std::string with_database(const std::string& url, const std::string& name) {
  auto slash = url.rfind('/');
  auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

class scratch_db {
 public:
  explicit scratch_db(bool postgres = postgres_backend()) {
    if (!postgres && memory_backend()) {
      // Held open by the scratch database: an in-memory database ends with its last connection.
      static std::atomic<int> memory_counter{0};
      url_ = "sqlite:file:spool_m" + std::to_string(::getpid()) + "_" +
             std::to_string(memory_counter++) + "?mode=memory&cache=shared";
      keeper_ = std::make_unique<soci::session>(soci::sqlite3, store::locate(url_).connection);
      return;
    }
    if (!postgres) {
      url_ = dir_.db_url();
      return;
    }
    static std::atomic<int> counter{0};
    server_ = postgres_server_url();
    name_ = "spool_t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    soci::session admin(soci::postgresql, store::conninfo(server_));
    admin << "SET client_min_messages = warning";
    admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    admin << "CREATE DATABASE " + name_;
    url_ = with_database(server_, name_);
  }
  ~scratch_db() {
    if (name_.empty()) return;
    try {
      soci::session admin(soci::postgresql, store::conninfo(server_));
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    } catch (...) {  // a leftover scratch database is harmless; the server is throwaway
    }
  }
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;

  const std::string& url() const { return url_; }
  bool postgres() const { return !name_.empty(); }
  const std::filesystem::path& dir() const { return dir_.path; }

 private:
  temp_dir dir_;  // also the working directory of SQLite tests
  std::string server_, name_, url_;
  std::unique_ptr<soci::session> keeper_;  // keeps an in-memory database alive
};

}  // namespace spool::test
