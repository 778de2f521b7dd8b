// The sd_notify logic of `spool run` (cli/service_notify): what is sent, how often, and that the
// watchdog pings come from the io_context, so a stuck io_context stops them. A recording sink
// stands in for sd_notify; tests/e2e/e2e_sd_notify_test.cpp covers the real socket.
#define BOOST_TEST_MODULE service_notify
#include <boost/test/unit_test.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cli/service_notify.hpp"

namespace asio = boost::asio;
using spool::cli::service_notifier;
using namespace std::chrono_literals;

namespace {

struct recorder {
  std::mutex m;
  std::condition_variable changed;
  std::vector<std::string> sent;

  service_notifier::sink sink() {
    return [this](std::string_view message) {
      std::lock_guard lock(m);
      sent.emplace_back(message);
      changed.notify_all();
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(m);
    return sent;
  }
  std::size_t count(const std::string& message) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(std::count(sent.begin(), sent.end(), message));
  }
  // Waits (without a deadline that could flake: the test's own timeout is the limit) until
  // `message` has been sent `n` times.
  void wait_for(const std::string& message, std::size_t n) {
    std::unique_lock lock(m);
    changed.wait(lock, [&] {
      return static_cast<std::size_t>(std::count(sent.begin(), sent.end(), message)) >= n;
    });
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(ready_and_stopping_are_sent_once_each) {
  asio::io_context ioc;
  recorder r;
  service_notifier n(ioc.get_executor(), r.sink(), 0us);
  n.ready();
  n.ready();
  n.stopping();
  n.ready();
  n.stopping();
  BOOST_TEST(r.snapshot() == (std::vector<std::string>{"READY=1", "STOPPING=1"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(without_a_watchdog_nothing_is_scheduled) {
  asio::io_context ioc;
  recorder r;
  service_notifier n(ioc.get_executor(), r.sink(), 0us);
  BOOST_TEST(n.ping_interval().count() == 0);
  n.start_watchdog();
  ioc.run();  // returns at once: no timer was armed
  BOOST_TEST(r.snapshot().empty());
}

BOOST_AUTO_TEST_CASE(pings_every_half_watchdog_until_stopped) {
  asio::io_context ioc;
  recorder r;
  service_notifier n(ioc.get_executor(), r.sink(), 20ms);
  BOOST_TEST(n.ping_interval() == std::chrono::microseconds(10ms));
  n.start_watchdog();
  std::thread t([&] { ioc.run(); });
  r.wait_for("WATCHDOG=1", 3);
  n.stop_watchdog();
  t.join();  // the io_context runs out of work: the timer is cancelled, nothing re-armed
  const auto pings = r.count("WATCHDOG=1");
  BOOST_TEST(pings >= 3u);
  // Stopped: running the io_context again sends nothing more.
  ioc.restart();
  ioc.run();
  BOOST_TEST(r.count("WATCHDOG=1") == pings);
  BOOST_TEST(r.snapshot().size() == pings);  // only pings: no READY=1 or STOPPING=1 of its own
}

// The point of pinging from the io_context: while its only thread is blocked, no ping goes out
// (so systemd's watchdog fires); once it is free again, the pings resume.
BOOST_AUTO_TEST_CASE(a_blocked_io_context_sends_no_pings) {
  asio::io_context ioc;
  recorder r;
  service_notifier n(ioc.get_executor(), r.sink(), 2ms);
  n.start_watchdog();
  std::mutex m;
  std::condition_variable cv;
  bool blocked = false, release = false;
  std::thread t([&] { ioc.run(); });
  r.wait_for("WATCHDOG=1", 1);
  asio::post(ioc, [&] {
    std::unique_lock lock(m);
    blocked = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  std::size_t at_block = 0;
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return blocked; });
    at_block = r.count("WATCHDOG=1");
  }
  // 50 intervals of 1 ms pass while the only thread is held.
  std::this_thread::sleep_for(50ms);
  BOOST_TEST(r.count("WATCHDOG=1") == at_block);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  r.wait_for("WATCHDOG=1", at_block + 2);
  n.stop_watchdog();
  t.join();
}
