// Standing claims (store::db_executor::stand): an idle producer's claim, made by the next
// enqueue transaction that commits a due job of its queue, taken back by withdraw, and never
// made once the producer says it is no longer allowed (paused, stopping).
#define BOOST_TEST_MODULE standing_claim
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>

#include "persistence/db_executor.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/temp_dir.hpp"

namespace asio = boost::asio;
using namespace spool;
using namespace std::chrono_literals;

namespace {

struct fixture {
  test::temp_dir dir;
  store::db_executor db{[url = dir.db_url()] {
    auto s = store::open(url);
    s->migrate();
    return s;
  }};

  // What the standing claim delivered, once it did (on the database thread).
  std::promise<std::vector<jobs::claimed_job>> made;
  std::atomic<bool> allowed{true};

  void stand(int limit = 10) {
    db.stand({.queue = "default",
              .limit = limit,
              .worker = "w",
              .lease = 30s,
              .allowed = [this] { return allowed.load(); },
              .claimed = [this](std::vector<jobs::claimed_job> jobs) { made.set_value(std::move(jobs)); }});
  }

  // Enqueues on an io_context of its own; returns the ids.
  std::vector<jobs::job_id> enqueue(std::vector<jobs::new_job> batch) {
    asio::io_context ioc;
    std::vector<jobs::job_id> ids;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          for (auto& r : co_await db.insert(std::move(batch))) ids.push_back(r.id);
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    ioc.run();
    return ids;
  }
};

std::vector<jobs::new_job> one(std::optional<jobs::time_point> run_at = {}) {
  jobs::new_job j;
  j.kind = "noop";
  j.run_at = run_at;
  return {j};
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_next_enqueue_of_a_due_job_makes_it_in_its_transaction, fixture) {
  stand();
  const auto ids = enqueue(one());
  auto got = made.get_future();
  BOOST_REQUIRE((got.wait_for(5s) == std::future_status::ready));
  const auto jobs = got.get();
  BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
  BOOST_TEST(jobs[0].id == ids[0]);
  BOOST_TEST(jobs[0].attempt == 1);
  BOOST_TEST(store::open(dir.db_url())->get(ids[0], jobs::now())->st == jobs::state::running);
}

BOOST_FIXTURE_TEST_CASE(a_scheduled_job_does_not_make_it, fixture) {
  stand();
  const auto ids = enqueue(one(jobs::now() + 1h));
  BOOST_TEST((made.get_future().wait_for(100ms) == std::future_status::timeout));
  BOOST_TEST(store::open(dir.db_url())->get(ids[0], jobs::now())->st == jobs::state::scheduled);
}

BOOST_FIXTURE_TEST_CASE(a_claim_no_longer_allowed_is_not_made, fixture) {
  stand();
  allowed = false;  // the queue was paused: its withdraw is still on the way
  const auto ids = enqueue(one());
  BOOST_TEST((made.get_future().wait_for(100ms) == std::future_status::timeout));
  BOOST_TEST(store::open(dir.db_url())->get(ids[0], jobs::now())->st == jobs::state::available);
}

BOOST_FIXTURE_TEST_CASE(withdraw_takes_it_back_and_says_so_only_then, fixture) {
  stand();
  std::promise<void> taken_back;
  db.withdraw("default", [&] { taken_back.set_value(); });
  BOOST_REQUIRE((taken_back.get_future().wait_for(5s) == std::future_status::ready));
  const auto ids = enqueue(one());
  BOOST_TEST((made.get_future().wait_for(100ms) == std::future_status::timeout));
  BOOST_TEST(store::open(dir.db_url())->get(ids[0], jobs::now())->st == jobs::state::available);

  // Made first, then withdrawn: the withdraw finds nothing and stays silent.
  std::promise<std::vector<jobs::claimed_job>> second;
  db.stand({.queue = "default", .limit = 10, .worker = "w", .lease = 30s,
            .allowed = [] { return true; },
            .claimed = [&](std::vector<jobs::claimed_job> jobs) { second.set_value(std::move(jobs)); }});
  enqueue(one());
  auto got = second.get_future();
  BOOST_REQUIRE((got.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(got.get().size() == 2u);  // the earlier job too: it was waiting, due
  std::atomic<bool> answered{false};
  db.withdraw("default", [&] { answered = true; });
  enqueue(one(jobs::now() + 1h));  // a call after the withdraw: it has run by the time this returns
  BOOST_TEST(!answered);
}
