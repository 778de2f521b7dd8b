#define BOOST_TEST_MODULE transactional_enqueue
// spool::enqueue in the application's own transaction (<spool/transactional.hpp>), once per store
// backend: the job exists if and only if the application's transaction commits, with exact counts
// and unique keys honoured; a runtime on the same database runs it once; on PostgreSQL the
// commit's NOTIFY wakes the runtime without waiting for its poll.
#include <spool/transactional.hpp>

#include <boost/asio/thread_pool.hpp>

#include "tests/support/count_oracle.hpp"
#include "tests/support/runtime_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

jobs::new_job job(std::string kind = "k", std::optional<std::string> key = {}) {
  jobs::new_job j;
  j.kind = std::move(kind);
  j.payload = R"({"order":42})";
  j.unique_key = std::move(key);
  return j;
}

// The application's side: its own session on the runtime's database, its own table.
struct app_db {
  explicit app_db(const std::string& url) : url(url), session(raw_session(url)) {
    *session << "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, note TEXT)";
  }
  // SQLite: the write lock up front, as an application should take it (see the header).
  void begin() {
    if (session->get_backend_name() == "sqlite3")
      *session << "BEGIN IMMEDIATE";
    else
      session->begin();
  }
  void commit() { session->commit(); }
  void rollback() { session->rollback(); }
  long long orders() {
    long long n = 0;
    *session << "SELECT COUNT(*) FROM orders", soci::into(n);
    return n;
  }
  std::string url;
  std::unique_ptr<soci::session> session;
};

struct fixture {
  scratch_db scratch;
  std::unique_ptr<store::store> db = store::open(scratch.url());
  fixture() { db->migrate(); }
  void counts_agree(const std::string& when) {
    const auto stored = stored_counts(scratch.url());
    const auto scanned = scanned_counts(scratch.url());
    BOOST_TEST((stored == scanned), when << ": job_counts " << describe(stored) << ", tables "
                                         << describe(scanned));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_rollback_leaves_neither_the_job_nor_a_count, fixture) {
  app_db app(scratch.url());
  app.begin();
  *app.session << "INSERT INTO orders (id, note) VALUES (1, 'first')";
  const auto r = spool::enqueue(*app.session, job());
  BOOST_TEST(!r.duplicate);
  BOOST_TEST(r.id > 0);
  app.rollback();

  BOOST_TEST(app.orders() == 0);
  BOOST_TEST(!db->get(r.id, jobs::now()).has_value());
  BOOST_TEST(db->list({}, jobs::now()).empty());
  BOOST_TEST(stored_counts(scratch.url()).empty(), describe(stored_counts(scratch.url())));
  counts_agree("after rollback");
}

BOOST_FIXTURE_TEST_CASE(a_commit_stores_the_row_and_the_jobs_with_exact_counts, fixture) {
  app_db app(scratch.url());
  app.begin();
  *app.session << "INSERT INTO orders (id, note) VALUES (1, 'first')";
  std::vector<jobs::new_job> batch{job("ship"), job("mail")};
  batch[1].queue = "other";
  batch[1].run_at = jobs::now() + std::chrono::hours(1);
  const auto r = spool::enqueue(*app.session, batch);
  app.commit();

  BOOST_REQUIRE_EQUAL(r.size(), 2u);
  BOOST_TEST(app.orders() == 1);
  const auto shipped = db->get(r[0].id, jobs::now());
  BOOST_REQUIRE(shipped.has_value());
  BOOST_TEST(shipped->kind == "ship");
  BOOST_TEST(shipped->payload == R"({"order":42})");
  BOOST_TEST(shipped->st == jobs::state::available);
  const auto mailed = db->get(r[1].id, jobs::now());
  BOOST_REQUIRE(mailed.has_value());
  BOOST_TEST(mailed->st == jobs::state::scheduled);
  BOOST_TEST(mailed->queue == "other");
  const count_map expected{{"default/waiting", 1}, {"other/waiting", 1}};
  BOOST_TEST((stored_counts(scratch.url()) == expected), describe(stored_counts(scratch.url())));
  counts_agree("after commit");
  // The store's own enqueue goes on from there: ids do not collide, counts stay exact.
  auto next = db->insert(std::vector{job()}, jobs::now());
  BOOST_TEST(next[0].id != r[0].id);
  BOOST_TEST(next[0].id != r[1].id);
  counts_agree("after a store enqueue");
}

BOOST_FIXTURE_TEST_CASE(a_held_unique_key_gives_the_holder_as_a_duplicate, fixture) {
  const auto holder = db->insert(std::vector{job("k", "order-42")}, jobs::now()).front();
  BOOST_REQUIRE(!holder.duplicate);
  app_db app(scratch.url());
  app.begin();
  // Held by the store's job; and within the batch, a key taken by its first job.
  const auto r = spool::enqueue(*app.session, std::vector{job("k", "order-42"), job("k", "order-43"),
                                                          job("k", "order-43")});
  app.commit();
  BOOST_REQUIRE_EQUAL(r.size(), 3u);
  BOOST_TEST(r[0].duplicate);
  BOOST_TEST(r[0].id == holder.id);
  BOOST_TEST(!r[1].duplicate);
  BOOST_TEST(r[2].duplicate);
  BOOST_TEST(r[2].id == r[1].id);
  // And the key the application's transaction took is held against the store's enqueue.
  const auto again = db->insert(std::vector{job("k", "order-43")}, jobs::now()).front();
  BOOST_TEST(again.duplicate);
  BOOST_TEST(again.id == r[1].id);
  const count_map expected{{"default/waiting", 2}};
  BOOST_TEST((stored_counts(scratch.url()) == expected), describe(stored_counts(scratch.url())));
  counts_agree("after duplicates");
}

BOOST_FIXTURE_TEST_CASE(a_rolled_back_key_is_free_again, fixture) {
  app_db app(scratch.url());
  app.begin();
  BOOST_TEST(!spool::enqueue(*app.session, job("k", "once")).duplicate);
  app.rollback();
  BOOST_TEST(!db->insert(std::vector{job("k", "once")}, jobs::now()).front().duplicate);
  counts_agree("after rollback and insert");
}

BOOST_FIXTURE_TEST_CASE(without_a_transaction_or_with_an_invalid_job_nothing_is_written, fixture) {
  app_db app(scratch.url());
  BOOST_CHECK_THROW(spool::enqueue(*app.session, job()), std::logic_error);
  app.begin();
  auto bad = job();
  bad.payload = "[1]";  // not an object
  BOOST_CHECK_THROW(spool::enqueue(*app.session, std::vector{job(), bad}), std::invalid_argument);
  app.commit();
  BOOST_TEST(db->list({}, jobs::now()).empty());
  BOOST_TEST(stored_counts(scratch.url()).empty(), describe(stored_counts(scratch.url())));
}

BOOST_FIXTURE_TEST_CASE(a_database_failure_is_a_store_error, fixture) {
  scratch_db other;  // never migrated: no jobs table
  app_db app(other.url());
  app.begin();
  BOOST_CHECK_THROW(spool::enqueue(*app.session, job()), store::store_error);
  app.rollback();
}

namespace {

// A runtime on the test's database, as tests/support/runtime_harness.hpp runs one, without the
// diagnostic kinds (so that this store test links the library only): the end of `scenario`
// stops it gracefully.
struct harness {
  scratch_db db;
  config::settings settings;
  jobs::registry kinds;

  harness() {
    settings.db = db.url();
    settings.poll_interval_s = 0.2;
    settings.grace_s = 5;
    settings.queues = {{"default", 4}};
    settings.log_level = "error";
  }
  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(2);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
    bool ran = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
      ran = true;
      if (e) failure = e;
    });
    asio::co_spawn(ioc, scenario(rt), [&](std::exception_ptr e) {
      if (e) failure = e;
      rt.stop();
    });
    std::thread other([&] { ioc.run(); });
    ioc.run();
    other.join();
    BOOST_TEST(ran);
    if (failure) std::rethrow_exception(failure);
  }
};

// Runs `f` (blocking database work of the application) off the runtime's io_context threads.
template <class F>
asio::awaitable<std::invoke_result_t<F&>> off_loop(asio::thread_pool& pool, F f) {
  co_return co_await asio::co_spawn(
      pool, [&]() -> asio::awaitable<std::invoke_result_t<F&>> { co_return f(); }, asio::use_awaitable);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_committed_job_runs_once_in_a_runtime_on_the_same_database) {
  harness h;
  std::atomic<int> runs{0};
  h.kinds.add("ship", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    ++runs;
    co_return jobs::outcome::success();
  });
  asio::thread_pool pool(1);
  const std::string url = h.db.url();
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    const auto ids = co_await off_loop(pool, [&] {
      app_db app(url);
      app.begin();
      *app.session << "INSERT INTO orders (id, note) VALUES (1, 'kept')";
      const auto kept = spool::enqueue(*app.session, job("ship")).id;
      app.commit();
      app.begin();
      *app.session << "INSERT INTO orders (id, note) VALUES (2, 'dropped')";
      const auto dropped = spool::enqueue(*app.session, job("ship")).id;
      app.rollback();
      return std::pair{kept, dropped};
    });
    const auto j = co_await await_job(rt, ids.first, in_state(jobs::state::completed));
    BOOST_TEST(j.attempt == 1);
    // The rolled-back job never existed; a later job, enqueued by the runtime, runs after the
    // committed one was taken, so by its end the committed one cannot run again unseen.
    auto get = [id = ids.second](store::store& s) { return s.get(id, jobs::now()); };
    BOOST_TEST(!(co_await runtime::db_of(rt).run(std::move(get))).has_value());
    auto later = co_await enqueue(rt, "ship");
    co_await await_job(rt, later, in_state(jobs::state::completed));
  });
  BOOST_TEST(runs == 2);  // the committed job and the later one, each once
  const count_map expected{{"default/completed", 2}};
  BOOST_TEST((stored_counts(h.db.url()) == expected), describe(stored_counts(h.db.url())));
}

BOOST_AUTO_TEST_CASE(on_postgresql_the_commit_wakes_the_runtime_without_its_poll) {
  harness h;
  if (!h.db.postgres()) {
    BOOST_TEST_MESSAGE("PostgreSQL only: SQLite runtimes find the job at their next poll");
    return;
  }
  // Only a notification can start the job before the end of the test: the poll is an hour.
  h.settings.poll_interval_s = 3600;
  std::atomic<int> runs{0};
  h.kinds.add("ship", [&](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
    ++runs;
    co_return jobs::outcome::success();
  });
  asio::thread_pool pool(1);
  const std::string url = h.db.url();
  app_db app(url);
  h.run([&](runtime::runtime& rt) -> asio::awaitable<void> {
    auto& notified = runtime::stats_of(rt).queue_notifications;
    // The runtime LISTENs once its listener has connected; a NOTIFY sent before that is lost. Until
    // one of ours arrives, send one and give it two seconds, so that none is still on its way
    // when the count is taken below.
    co_await poll_until(
        [&]() -> asio::awaitable<std::uint64_t> {
          co_await off_loop(pool, [&] {
            *app.session << "SELECT pg_notify('spool_jobs', 'default')";
            return 0;
          });
          const auto deadline = steady::now() + 2s;
          while (notified.load() == 0 && steady::now() < deadline) co_await sleep_for(10ms);
          co_return notified.load();
        },
        [](std::uint64_t n) { return n > 0; },
        [](std::uint64_t) { return std::string("the runtime's listener never got a NOTIFY"); }, 30s,
        0ms);
    const auto before = notified.load();
    const auto id = co_await off_loop(pool, [&] {
      app.begin();
      const auto r = spool::enqueue(*app.session, job("ship"));
      app.commit();
      return r.id;
    });
    co_await await_job(rt, id, in_state(jobs::state::completed));
    BOOST_TEST(notified.load() > before);  // woken by the commit's NOTIFY
  });
  BOOST_TEST(runs == 1);
}
