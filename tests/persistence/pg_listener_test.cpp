// Cross-node wake-ups on PostgreSQL: an enqueue committed on one connection reaches another
// node's LISTEN connection as the queue's name; jobs not yet due send nothing.
#define BOOST_TEST_MODULE pg_listener
#include <boost/test/unit_test.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

#include "persistence/pg_listener.hpp"
#include "persistence/store.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

using namespace spool;
using namespace std::chrono_literals;

namespace {
// Runs the io_context until `done` holds or `limit` passes.
bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
               std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) ioc.run_for(10ms);
  return done();
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_enqueue_elsewhere_wakes_the_listener_with_its_queue) {
  test::scratch_db db(true);
  auto other_node = store::open(db.url());
  other_node->migrate();

  boost::asio::io_context ioc;
  std::vector<std::string> heard;
  int connected = 0;
  store::pg_listener listener(db.url(), {.notified = [&](std::string_view p) { heard.emplace_back(p); },
                                         .connected = [&] { ++connected; },
                                         .failed = {}});
  boost::asio::co_spawn(ioc, listener.run(), boost::asio::detached);
  BOOST_REQUIRE(run_until(ioc, [&] { return connected == 1; }, 10s));

  const auto now = jobs::now();
  std::vector<jobs::new_job> batch(3);
  batch[0].kind = batch[1].kind = batch[2].kind = "noop";
  batch[0].queue = "mail";
  batch[1].queue = "mail";  // one notification per queue and transaction
  batch[2].queue = "later";
  batch[2].run_at = now + 1h;  // not due: nobody needs waking
  other_node->insert(batch, now);
  other_node->notify("probe-1");  // what the start-up self-probe sends
  BOOST_REQUIRE(run_until(ioc, [&] { return heard.size() >= 2; }, 5s));
  ioc.run_for(200ms);  // anything more would arrive now
  BOOST_TEST(heard == (std::vector<std::string>{"mail", "probe-1"}), boost::test_tools::per_element());

  listener.stop();
  BOOST_TEST(run_until(ioc, [&] { return ioc.stopped(); }, 3s), "run() did not return after stop()");
}
