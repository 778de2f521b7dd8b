// Run by ctest once per backend (SPOOL_STORE_BACKEND), like the store conformance suite.
#define BOOST_TEST_MODULE results_store
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <thread>

#include "jobs/json.hpp"
#include "kinds/ai/results_store.hpp"
#include "kinds/ai/schema.hpp"
#include "persistence/database_url.hpp"
#include "persistence/store.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;
using kinds::ai::upsert_result;

namespace spool::kinds::ai {
inline std::ostream& operator<<(std::ostream& o, upsert_result r) { return o << static_cast<int>(r); }
}  // namespace spool::kinds::ai

namespace {

// A database migrated with the AI kinds' schema, and a results connection to it.
struct fixture {
  test::scratch_db scratch;
  std::unique_ptr<kinds::ai::results_store> rs;
  fixture() {
    store::open(scratch.url(), {.schemas = {kinds::ai::schema()}})->migrate();
    rs = kinds::ai::results_store::open(scratch.url());
  }
};

boost::test_tools::assertion_result on_postgres(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(test::postgres_backend());
  r.message() << "PostgreSQL only (SPOOL_STORE_BACKEND=postgresql)";
  return r;
}

kinds::ai::activity_result result(std::string id, std::string user, std::string when,
                              std::string analysis = R"({"summary":"s"})") {
  kinds::ai::activity_result r;
  r.activity_id = std::move(id);
  r.user_id = std::move(user);
  r.type = "note";
  r.occurred_at = *jobs::parse_rfc3339(when);
  r.analysis = std::move(analysis);
  r.backend = "local";
  r.job_id = 7;
  return r;
}

kinds::ai::profile_record profile(std::string user, std::int64_t revision, std::string body) {
  kinds::ai::profile_record p;
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

BOOST_FIXTURE_TEST_CASE(results_live_in_the_jobs_database_and_survive_reopening, fixture) {
  rs->upsert(result("a-1", "u-1", "2026-11-01T10:00:00Z"), jobs::now());
  rs.reset();
  BOOST_TEST(kinds::ai::results_store::open(scratch.url())->find_result("a-1").has_value());
  if (!scratch.postgres()) {
    auto again = kinds::ai::results_store::open("sqlite://" + (scratch.dir() / "test.db").string());
    BOOST_TEST(again->find_result("a-1").has_value());
  }
}

BOOST_AUTO_TEST_CASE(a_bad_database_url_is_a_store_error_that_shows_no_password) {
  BOOST_CHECK_THROW(kinds::ai::results_store::open("mysql://x"), store::store_error);
  BOOST_CHECK_THROW(kinds::ai::results_store::open("sqlite:"), store::store_error);
  try {
    kinds::ai::results_store::open("postgresql://spool:s3cret@127.0.0.1:1/spool");
    BOOST_FAIL("connected to a closed port");
  } catch (const store::store_error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("cannot open results database") != std::string::npos, message);
    BOOST_TEST(message.find("s3cret") == std::string::npos, message);
  }
}

// Two nodes writing results at once: every change gets its own revision, numbered in the order
// the changes become visible, so that a profile built from what a reader saw is never counted
// up to date while a lower revision is still to appear.
BOOST_FIXTURE_TEST_CASE(concurrent_writers_number_changes_uniquely_in_the_order_readers_see_them,
                        fixture) {
  constexpr int writes = 200;
  struct writer_log {
    int changes = 0;
    std::vector<std::int64_t> revisions;  // of its row right after each of its own writes
    std::exception_ptr failure;
  };
  std::atomic<int> running{2};
  // Each writer adds its own activities and, every third one, rewrites the other writer's
  // latest, so inserts and updates of the same rows race. Every write changes content.
  auto write = [&](std::string me, std::string other, writer_log& log) {
    try {
      auto w = kinds::ai::results_store::open(scratch.url());
      for (int i = 0; i < writes; ++i) {
        const auto id = me + "-" + std::to_string(i);
        const auto analysis = R"({"summary":")" + me + std::to_string(i) + R"("})";
        if (w->upsert(result(id, "u-1", "2026-11-01T10:00:00Z", analysis), jobs::now()) !=
            kinds::ai::upsert_result::unchanged)
          ++log.changes;
        log.revisions.push_back(w->find_result(id)->revision);
        if (i % 3 == 2) {
          const auto theirs = other + "-" + std::to_string(i - 1);
          if (w->upsert(result(theirs, "u-1", "2026-11-01T10:00:00Z", analysis), jobs::now()) !=
              kinds::ai::upsert_result::unchanged)
            ++log.changes;
        }
      }
    } catch (...) {
      log.failure = std::current_exception();
    }
    --running;
  };
  writer_log a, b;
  std::vector<std::string> violations;
  std::exception_ptr reader_failure;
  // A third connection polls the user's sources: a row it has not seen before (or a new revision
  // of one) must carry a revision above everything it saw in earlier polls.
  std::thread reader([&] {
    try {
      auto r = kinds::ai::results_store::open(scratch.url());
      std::map<std::string, std::int64_t> seen;
      std::int64_t highest = 0;
      bool last = false;
      while (!last) {
        last = running == 0;
        auto s = r->sources("u-1", 10 * writes);
        std::int64_t top = 0;
        for (const auto& row : s.latest) {
          top = std::max(top, row.revision);
          auto [it, fresh] = seen.try_emplace(row.activity_id, row.revision);
          if (!fresh && it->second == row.revision) continue;
          if (row.revision <= highest)
            violations.push_back(row.activity_id + " appeared at revision " +
                                 std::to_string(row.revision) + " after revision " +
                                 std::to_string(highest) + " was seen");
          it->second = row.revision;
        }
        if (s.revision != top)
          violations.push_back("sources.revision " + std::to_string(s.revision) +
                               " is not the highest row revision " + std::to_string(top));
        highest = std::max(highest, top);
      }
    } catch (...) {
      reader_failure = std::current_exception();
    }
  });
  std::thread first([&] { write("a", "b", a); });
  std::thread second([&] { write("b", "a", b); });
  first.join();
  second.join();
  reader.join();
  for (auto* failure : {&a.failure, &b.failure, &reader_failure})
    if (*failure) std::rethrow_exception(*failure);

  BOOST_TEST(violations.empty(), violations.size() << " violations, first: "
                                                    << (violations.empty() ? "" : violations[0]));
  for (auto* log : {&a, &b})
    for (std::size_t i = 1; i < log->revisions.size(); ++i)
      BOOST_REQUIRE_MESSAGE(log->revisions[i] > log->revisions[i - 1],
                            "revision " << log->revisions[i] << " after " << log->revisions[i - 1]);
  // Numbered 1, 2, 3, ... without a gap or a duplicate: the highest is the number of changes.
  const auto all = rs->sources("u-1", 10 * writes);
  BOOST_TEST(a.changes + b.changes == 2 * (writes + writes / 3));  // every write changed its row
  BOOST_TEST(all.revision == a.changes + b.changes);
  std::set<std::int64_t> distinct;
  for (const auto& row : all.latest) distinct.insert(row.revision);
  BOOST_TEST(distinct.size() == all.latest.size());
  BOOST_TEST(all.latest.size() == std::size_t{2 * writes});
}

// After the server drops the connection (a restart, a failover), the call that finds it dead
// fails, and the next one reconnects instead of failing forever.
BOOST_FIXTURE_TEST_CASE(a_lost_postgresql_connection_is_reopened_by_the_next_call, fixture,
                        *boost::unit_test::precondition(on_postgres)) {
  rs->upsert(result("a-1", "u-1", "2026-11-01T10:00:00Z"), jobs::now());
  {
    soci::session admin(soci::postgresql, store::conninfo(scratch.url()));
    int killed = 0;
    // Materialized: the filter must run before the termination, not in any order the planner picks.
    admin << "WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity "
             "WHERE datname = current_database() AND application_name = 'spool-results') "
             "SELECT COUNT(*) FROM victims WHERE pg_terminate_backend(pid, 10000)",
        soci::into(killed);
    BOOST_REQUIRE_EQUAL(killed, 1);
  }
  BOOST_CHECK_THROW(rs->find_result("a-1"), store::store_error);
  BOOST_TEST(rs->find_result("a-1").has_value());
  BOOST_TEST(rs->upsert(result("a-2", "u-1", "2026-11-02T10:00:00Z"), jobs::now()) ==
             upsert_result::inserted);
  BOOST_TEST(rs->find_result("a-2")->revision == 2);
}
