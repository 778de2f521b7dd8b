#define BOOST_TEST_MODULE results_store
#include <boost/test/unit_test.hpp>

#include "jobs/json.hpp"
#include "persistence/results_store.hpp"
#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace spool;
using store::upsert_result;

namespace spool::store {
inline std::ostream& operator<<(std::ostream& o, upsert_result r) { return o << static_cast<int>(r); }
}  // namespace spool::store

namespace {

// A migrated database (the jobs store owns the migrations) and a results connection to it.
struct fixture {
  test::temp_dir dir;
  std::unique_ptr<store::results_store> rs;
  fixture() {
    store::open(dir.db_url())->migrate();
    rs = store::results_store::open(dir.db_url());
  }
};

store::activity_result result(std::string id, std::string user, std::string when,
                              std::string analysis = R"({"summary":"s"})") {
  store::activity_result r;
  r.activity_id = std::move(id);
  r.user_id = std::move(user);
  r.type = "note";
  r.occurred_at = *jobs::parse_rfc3339(when);
  r.analysis = std::move(analysis);
  r.backend = "local";
  r.job_id = 7;
  return r;
}

store::profile_record profile(std::string user, std::int64_t revision, std::string body) {
  store::profile_record p;
  p.user_id = std::move(user);
  p.profile = std::move(body);
  p.generated_at = jobs::now();
  p.source_count = 3;
  p.source_revision = revision;
  p.backend = "local";
  return p;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_rerun_of_the_same_activity_leaves_one_unchanged_row, fixture) {
  const auto r = result("a-1", "u-1", "2026-11-01T10:00:00Z");
  BOOST_TEST(rs->upsert(r, jobs::now()) == upsert_result::inserted);
  const auto first = *rs->find_result("a-1");
  BOOST_TEST(first.revision == 1);
  BOOST_TEST(first.job_id == 7);
  BOOST_TEST(first.analysis == R"({"summary":"s"})");
  BOOST_TEST(rs->upsert(r, jobs::now()) == upsert_result::unchanged);
  BOOST_TEST(rs->find_result("a-1")->revision == 1);
  BOOST_TEST(rs->count().results == 1);
  // A different answer (a model is not deterministic) replaces the row and bumps the revision.
  BOOST_TEST(rs->upsert(result("a-1", "u-1", "2026-11-01T10:00:00Z", R"({"summary":"t"})"),
                        jobs::now()) == upsert_result::updated);
  BOOST_TEST(rs->find_result("a-1")->revision == 2);
  BOOST_TEST(rs->find_result("a-1")->analysis == R"({"summary":"t"})");
  BOOST_TEST(rs->count().results == 1);
  BOOST_TEST(!rs->find_result("a-2"));
}

BOOST_FIXTURE_TEST_CASE(sources_are_the_latest_n_newest_first_with_the_users_revision, fixture) {
  rs->upsert(result("a-1", "u-1", "2026-11-01T10:00:00Z"), jobs::now());
  rs->upsert(result("b-1", "u-2", "2026-11-05T10:00:00Z"), jobs::now());
  rs->upsert(result("a-3", "u-1", "2026-11-03T10:00:00Z"), jobs::now());
  rs->upsert(result("a-2", "u-1", "2026-11-02T10:00:00Z"), jobs::now());
  auto s = rs->sources("u-1", 2);
  BOOST_REQUIRE_EQUAL(s.latest.size(), 2u);
  BOOST_TEST(s.latest[0].activity_id == "a-3");
  BOOST_TEST(s.latest[1].activity_id == "a-2");
  BOOST_TEST(s.revision == 4);  // a-2 was written last
  BOOST_TEST(!s.profile_revision);
  BOOST_TEST(rs->sources("u-2", 10).revision == 2);
  BOOST_TEST(rs->sources("nobody", 10).latest.empty());
  BOOST_TEST(rs->sources("nobody", 10).revision == 0);
}

BOOST_FIXTURE_TEST_CASE(a_profile_is_versioned_and_never_replaced_by_a_staler_one, fixture) {
  auto [w1, v1] = rs->upsert(profile("u-1", 5, R"({"interests":["a"]})"));
  BOOST_TEST(w1 == upsert_result::inserted);
  BOOST_TEST(v1 == 1);
  auto [w2, v2] = rs->upsert(profile("u-1", 5, R"({"interests":["a"]})"));  // a rerun
  BOOST_TEST(w2 == upsert_result::unchanged);
  BOOST_TEST(v2 == 1);
  auto [w3, v3] = rs->upsert(profile("u-1", 9, R"({"interests":["b"]})"));
  BOOST_TEST(w3 == upsert_result::updated);
  BOOST_TEST(v3 == 2);
  // A slow job that read older sources finishes last: it must not win.
  auto [w4, v4] = rs->upsert(profile("u-1", 7, R"({"interests":["stale"]})"));
  BOOST_TEST(w4 == upsert_result::unchanged);
  BOOST_TEST(v4 == 2);
  auto p = rs->find_profile("u-1");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->profile == R"({"interests":["b"]})");
  BOOST_TEST(p->source_revision == 9);
  BOOST_TEST(p->source_count == 3);
  BOOST_TEST(rs->sources("u-1", 1).profile_revision.value_or(-1) == 9);
  BOOST_TEST(!rs->find_profile("u-2"));
  BOOST_TEST(rs->count().profiles == 1);
}

BOOST_AUTO_TEST_CASE(results_live_in_the_jobs_database_and_survive_reopening) {
  test::temp_dir dir;
  store::open(dir.db_url())->migrate();
  store::results_store::open(dir.db_url())->upsert(result("a-1", "u-1", "2026-11-01T10:00:00Z"),
                                                   jobs::now());
  auto again = store::results_store::open("sqlite://" + (dir.path / "test.db").string());
  BOOST_TEST(again->find_result("a-1").has_value());
  BOOST_CHECK_THROW(store::results_store::open("postgres://x"), store::store_error);
}
