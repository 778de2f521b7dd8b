// The two dialects' schemas agree: a SQLite and a PostgreSQL database migrated with every schema
// Spool declares (the store's own and the AI kinds') record the same migrations and hold the
// same tables with the same columns. Column types differ by dialect and are not compared, nor
// are indexes (each dialect indexes for its own hot path). Needs SPOOL_TEST_PG (skipped without).
#define BOOST_TEST_MODULE schema_conformance
#include <boost/test/unit_test.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kinds/ai/schema.hpp"
#include "persistence/database_url.hpp"
#include "persistence/store.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;

namespace {

using columns = std::map<std::string, std::set<std::string>>;  // table -> its columns

// Columns that only one dialect has, each for a reason of its hot path. Core migration 4: a
// SQLite lease counts its running jobs, where PostgreSQL's round finds them through an index.
const std::set<std::pair<std::string, std::string>> sqlite_only{{"leases", "remaining"}};

columns read_columns(soci::session& s, const std::string& query) {
  columns out;
  std::string table, column;
  soci::statement st = (s.prepare << query, soci::into(table), soci::into(column));
  st.execute();
  while (st.fetch()) out[table].insert(column);
  return out;
}

// "component version name", in order.
std::vector<std::string> recorded(soci::session& s) {
  std::vector<std::string> out;
  std::string component, name;
  int version = 0;
  soci::statement st = (s.prepare << "SELECT component, version, name FROM applied_migrations "
                                     "ORDER BY component, version",
                        soci::into(component), soci::into(version), soci::into(name));
  st.execute();
  while (st.fetch()) out.push_back(component + " " + std::to_string(version) + " " + name);
  return out;
}

struct migrated_pair {
  test::scratch_db pg{true};
  test::scratch_db lite{false};
  std::unique_ptr<soci::session> pg_sql, lite_sql;

  migrated_pair() {
    for (const auto* url : {&pg.url(), &lite.url()})
      store::open(*url, {.schemas = {kinds::ai::schema()}})->migrate();
    pg_sql = std::make_unique<soci::session>(soci::postgresql, store::locate(pg.url()).connection);
    lite_sql = std::make_unique<soci::session>(soci::sqlite3, store::locate(lite.url()).connection);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(both_dialects_record_the_same_migrations, migrated_pair) {
  const auto on_sqlite = recorded(*lite_sql);
  const auto on_postgres = recorded(*pg_sql);
  BOOST_TEST(on_sqlite == on_postgres, boost::test_tools::per_element());
  BOOST_TEST(on_sqlite.size() ==
             store::core_schema().migrations.size() + kinds::ai::schema().migrations.size());
}

BOOST_FIXTURE_TEST_CASE(both_dialects_hold_the_same_tables_and_columns, migrated_pair) {
  auto on_sqlite = read_columns(*lite_sql,
                                "SELECT m.name, p.name FROM sqlite_master m "
                                "JOIN pragma_table_info(m.name) p "
                                "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
  const auto on_postgres = read_columns(*pg_sql,
                                        "SELECT table_name, column_name FROM "
                                        "information_schema.columns "
                                        "WHERE table_schema = current_schema()");
  for (const auto& [table, column] : sqlite_only) {
    BOOST_TEST(on_sqlite[table].erase(column) == 1u, table << "." << column << " is gone");
  }
  BOOST_TEST(on_sqlite.count("jobs") == 1u);
  BOOST_TEST(on_sqlite.count("activity_results") == 1u);
  for (const auto& [table, cols] : on_sqlite) {
    auto found = on_postgres.find(table);
    if (found == on_postgres.end()) {
      BOOST_ERROR("table " << table << " exists on SQLite only");
      continue;
    }
    for (const auto& c : cols)
      BOOST_TEST(found->second.count(c) == 1u, table << "." << c << " exists on SQLite only");
    for (const auto& c : found->second)
      BOOST_TEST(cols.count(c) == 1u, table << "." << c << " exists on PostgreSQL only");
  }
  for (const auto& [table, _] : on_postgres)
    BOOST_TEST(on_sqlite.count(table) == 1u, "table " << table << " exists on PostgreSQL only");
}
