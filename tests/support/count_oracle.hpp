#pragma once
// The counts the store keeps (job_counts, summed over shards) and the counts a scan of the state
// tables finds, straight from the database: a test compares them after whatever it did.
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <map>
#include <memory>
#include <string>

#include "persistence/database_url.hpp"

namespace spool::test {

using count_map = std::map<std::string, long long>;  // "queue/state" -> jobs; no zero entries

inline std::unique_ptr<soci::session> raw_session(const std::string& url) {
  const auto where = store::locate(url);
  if (where.backend == store::backend::postgresql)
    return std::make_unique<soci::session>(soci::postgresql, where.connection);
  return std::make_unique<soci::session>(soci::sqlite3, where.connection);
}

inline count_map query_counts(soci::session& s, const std::string& sql) {
  count_map out;
  std::string queue, state;
  long long n = 0;
  soci::statement st = (s.prepare << sql, soci::into(queue), soci::into(state), soci::into(n));
  st.execute();
  while (st.fetch())
    if (n != 0) out[queue + "/" + state] += n;
  return out;
}

// What job_counts says.
inline count_map stored_counts(const std::string& url) {
  auto s = raw_session(url);
  return query_counts(*s, "SELECT queue, state, CAST(SUM(n) AS BIGINT) FROM job_counts "
                          "GROUP BY queue, state");
}

// What the state tables hold.
inline count_map scanned_counts(const std::string& url) {
  auto s = raw_session(url);
  return query_counts(*s, "SELECT queue, 'waiting', COUNT(*) FROM ready GROUP BY queue "
                          "UNION ALL SELECT queue, 'running', COUNT(*) FROM running GROUP BY queue "
                          "UNION ALL SELECT queue, state, COUNT(*) FROM finished GROUP BY queue, state "
                          "UNION ALL SELECT queue, 'dead', COUNT(*) FROM dead_letter_jobs "
                          "GROUP BY queue");
}

inline std::string describe(const count_map& m) {
  std::string out;
  for (auto& [k, n] : m) out += (out.empty() ? "" : " ") + k + "=" + std::to_string(n);
  return out.empty() ? "(none)" : out;
}

}  // namespace spool::test
