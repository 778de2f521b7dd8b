// A database made before schemas were recorded by name (one list, schema_migrations: versions 1
// to 4 on SQLite, 1 to 3 on PostgreSQL, the AI kinds' tables as 2) is adopted in place: nothing
// runs twice, its jobs and results stay, and the schemas carry on from there. Run by ctest once
// per backend (SPOOL_STORE_BACKEND).
#define BOOST_TEST_MODULE migration_adoption
#include <boost/test/unit_test.hpp>

#include <soci/soci.h>

#include <chrono>

#include "kinds/ai/results_store.hpp"
#include "kinds/ai/schema.hpp"
#include "persistence/dialect.hpp"
#include "persistence/store.hpp"
#include "persistence/time_codec.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;
using namespace std::chrono_literals;

namespace {

const store::migration& step(const store::schema& s, int version) {
  for (const auto& m : s.migrations)
    if (m.version == version) return m;
  throw std::logic_error(s.name + " has no migration " + std::to_string(version));
}

struct fixture {
  test::scratch_db scratch;
  store::location where = store::locate(scratch.url());
  std::unique_ptr<soci::session> sql = store::open_session(where, "spool-test");
  jobs::job_id job = 0;

  bool sqlite() const { return where.backend == store::backend::sqlite; }

  // The database as the code of that time left it, at old version `up_to`, with one waiting job
  // and one activity result. The old list's steps were these texts under these numbers.
  void make_old(int up_to) {
    const std::pair<int, const store::migration*> old_list[] = {
        {1, &step(store::core_schema(), 1)},
        {2, &step(kinds::ai::schema(), 1)},
        {3, &step(store::core_schema(), 3)},
        {4, &step(store::core_schema(), 4)},
    };
    const auto& d = store::dialect_of(where.backend);
    *sql << "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)";
    for (const auto& [version, m] : old_list) {
      if (version > up_to) break;
      for (const auto& stmt : store::split_statements(m->*d.migration_text)) *sql << stmt;
      std::string name(m->name);
      *sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, 0)",
          soci::use(version), soci::use(name);
    }
    long long id = 0;
    *sql << "INSERT INTO jobs (kind, queue, payload, priority, max_attempts, created_at) "
            "VALUES ('noop', 'default', '{}', 0, 3, 1)";
    *sql << "SELECT MAX(id) FROM jobs", soci::into(id);
    *sql << "INSERT INTO ready (queue, priority, run_at, id, attempt) "
            "VALUES ('default', 0, 1, :id, 0)",
        soci::use(id);
    job = id;
    *sql << "INSERT INTO activity_results (activity_id, user_id, type, occurred_at, analysis, "
            "backend, job_id, processed_at, revision) "
            "VALUES ('a-1', 'u-1', 'note', 1, '{}', 'local', :id, 1, 1)",
        soci::use(id);
  }

  std::vector<std::string> recorded() {
    std::vector<std::string> out;
    std::string component;
    int version = 0;
    soci::statement st = (sql->prepare << "SELECT component, version FROM applied_migrations "
                                          "ORDER BY component, version",
                          soci::into(component), soci::into(version));
    st.execute();
    while (st.fetch()) out.push_back(component + " " + std::to_string(version));
    return out;
  }
};

const std::vector<std::string> all_recorded{"ai 1", "ai 2", "core 1", "core 3", "core 4", "core 5", "core 6", "core 7", "core 8", "core 9", "core 10", "core 11", "core 12"};
// Migrations written after the legacy list ended: they run on adoption, the legacy ones do not.
constexpr int later_migrations = 9;  // core 5, core 6, core 7, core 8, core 9, core 10, core 11, core 12, ai 2

boost::test_tools::assertion_result on_sqlite(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(!test::postgres_backend());
  r.message() << "SQLite only: PostgreSQL's list never had migration 4";
  return r;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(an_old_database_is_adopted_without_running_anything_twice, fixture) {
  make_old(sqlite() ? 4 : 3);
  auto db = store::open(scratch.url(), {.schemas = {kinds::ai::schema()}});
  // PostgreSQL's list stopped at 3: its migration 4 runs now, and has nothing to do.
  BOOST_TEST(db->migrate() == (sqlite() ? 0 : 1) + later_migrations);
  BOOST_TEST(recorded() == all_recorded, boost::test_tools::per_element());
  BOOST_TEST(db->migrate() == 0);
  db->ping();
  BOOST_TEST(db->get(job, jobs::now())->st == jobs::state::available);
  const auto now = jobs::now();
  const auto claimed = db->claim("default", 10, "w", now, now + 30s);
  BOOST_REQUIRE_EQUAL(claimed.size(), 1u);
  BOOST_TEST(claimed[0].id == job);
  BOOST_TEST(kinds::ai::results_store::open(scratch.url())->find_result("a-1").has_value());
}

BOOST_FIXTURE_TEST_CASE(a_schema_passed_in_later_adopts_its_part_then, fixture) {
  make_old(sqlite() ? 4 : 3);
  store::open(scratch.url())->migrate();  // a command that knows only the store's own tables
  auto with_ai = store::open(scratch.url(), {.schemas = {kinds::ai::schema()}});
  BOOST_TEST(with_ai->migrate() == 1);  // ai 2; ai 1 is adopted
  BOOST_TEST(recorded() == all_recorded, boost::test_tools::per_element());
  BOOST_TEST(kinds::ai::results_store::open(scratch.url())->find_result("a-1").has_value());
}

// A database of the time before migration 4 has it run on adoption: its leases get their counts
// of running jobs, so that a completion still takes an emptied lease with it.
BOOST_FIXTURE_TEST_CASE(an_old_sqlite_database_at_3_gets_migration_4, fixture,
                        *boost::unit_test::precondition(on_sqlite)) {
  make_old(3);
  long long lease = 0, id = job, until = store::to_us(jobs::now() + 1h);
  *sql << "INSERT INTO leases (worker, lease_until) VALUES ('w', :u)", soci::use(until);
  *sql << "SELECT MAX(id) FROM leases", soci::into(lease);
  *sql << "DELETE FROM ready WHERE id = :id", soci::use(id);
  *sql << "INSERT INTO running (id, queue, priority, attempt, lease_id, attempted_at, due_at) "
          "VALUES (:id, 'default', 0, 1, :l, 1, 1)",
      soci::use(id), soci::use(lease);
  auto db = store::open(scratch.url(), {.schemas = {kinds::ai::schema()}});
  BOOST_TEST(db->migrate() == 1 + later_migrations);
  BOOST_TEST(recorded() == all_recorded, boost::test_tools::per_element());
  jobs::transition done;
  done.at = jobs::now();
  done.attempt = 1;
  const std::vector<jobs::completion> batch{{job, lease, done}};
  BOOST_TEST(db->complete(batch).empty());
  int leases = -1;
  *sql << "SELECT COUNT(*) FROM leases", soci::into(leases);
  BOOST_TEST(leases == 0);
  BOOST_TEST(db->get(job, jobs::now())->st == jobs::state::completed);
}
