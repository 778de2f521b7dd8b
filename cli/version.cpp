#include "cli/version.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <spool/version.hpp>
#include <string>

namespace spool::cli {

// SPOOL_GIT_COMMIT and SPOOL_BUILD_TYPE come from CMake (for this file only), read at configure
// time: a commit made since the last configure shows as the commit before it.
std::string version_text() {
  const int pq = PQlibVersion();  // e.g. 150005 -> 15.5
  return std::string("spool ") + SPOOL_VERSION + "\ncommit " + SPOOL_GIT_COMMIT + "\nbuild " +
         SPOOL_BUILD_TYPE + "\nsqlite " + sqlite3_libversion() + "\nlibpq " +
         std::to_string(pq / 10000) + "." + std::to_string(pq % 10000);
}

}  // namespace spool::cli
