#pragma once
// The one in-process harness of the tests that run a real runtime: a runtime on a 2-thread
// io_context over its own scratch database (SQLite, or PostgreSQL when SPOOL_STORE_BACKEND says
// so), with settings and kinds the test may change before run(), and a scenario coroutine whose
// end stops the runtime. Layers add what their tests need: tests/http/api_harness.hpp (the admin
// API over the runtime), tests/kinds/ai_harness.hpp (the AI kinds and their services),
// tests/http/live_server.hpp (the runtime behind a real server, for a blocking client).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "kinds/diagnostic.hpp"
#include "persistence/db_executor.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

namespace spool::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Awaits `probe()` every `every` until `done(value)` holds and returns that value; after `limit`
// throws, `describe(value)` saying where it got stuck. Tests wait for conditions only this way.
template <class Probe, class Done, class Describe>
auto poll_until(Probe probe, Done done, Describe describe, std::chrono::milliseconds limit,
                std::chrono::milliseconds every = 5ms)
    -> asio::awaitable<typename std::invoke_result_t<Probe&>::value_type> {
  const auto deadline = steady::now() + limit;
  for (;;) {
    auto value = co_await probe();
    if (done(value)) co_return value;
    if (steady::now() > deadline) throw std::runtime_error(describe(value));
    co_await sleep_for(every);
  }
}

// A test's runtime before it starts: its own database, its settings and its kinds (the diagnostic
// ones: noop, sleep, fail, ...; a test adds its own).
struct runtime_setup {
  scratch_db db;
  config::settings settings;
  jobs::registry kinds;

  runtime_setup() {
    settings.db = db.url();
    settings.poll_interval_s = 0.2;
    settings.grace_s = 5;
    settings.queues = {{"default", 10}};
    settings.log_level = "error";
    kinds::register_diagnostic(kinds);
  }
};

struct runtime_harness : runtime_setup {
  // What the end of the scenario calls: rt.stop() (in-flight jobs get grace_s) or rt.stop_now().
  enum class shutdown { graceful, immediate };
  shutdown at_end = shutdown::graceful;

  // Runs `scenario(rt)`, a coroutine, against the runtime until it returns. Call once: the
  // runtime takes the kinds.
  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(threads);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
    drive(ioc, rt, scenario(rt));
  }

 protected:
  static constexpr int threads = 2;

  // Runs `rt` and `scenario` on `threads` threads until both have ended; the end of the scenario
  // stops the runtime. Rethrows what either threw, and fails the test if the runtime never ended.
  void drive(asio::io_context& ioc, runtime::runtime& rt, asio::awaitable<void> scenario) {
    bool ran = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
      ran = true;
      if (e) failure = e;
    });
    asio::co_spawn(ioc, std::move(scenario), [&](std::exception_ptr e) {
      if (e) failure = e;
      if (at_end == shutdown::graceful)
        rt.stop();
      else
        rt.stop_now();
    });
    std::vector<std::thread> others;
    for (int i = 1; i < threads; ++i) others.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : others) t.join();
    BOOST_TEST(ran);
    if (failure) std::rethrow_exception(failure);
  }
};

inline asio::awaitable<jobs::job> job_of(runtime::runtime& rt, jobs::job_id id) {
  auto get = [id](store::store& s) { return s.get(id, jobs::now()); };
  auto j = co_await spool::runtime::db_of(rt).run(std::move(get));
  if (!j) throw std::runtime_error("job " + std::to_string(id) + " not found");
  co_return *j;
}

// Polls the job until `pred` holds; fails after `limit` naming the state it is stuck in.
template <class Pred>
asio::awaitable<jobs::job> await_job(runtime::runtime& rt, jobs::job_id id, Pred pred,
                                     std::chrono::milliseconds limit = 15s) {
  co_return co_await poll_until(
      [&rt, id] { return job_of(rt, id); }, std::move(pred),
      [id](const jobs::job& j) {
        return "job " + std::to_string(id) + " stuck in state " + std::string(jobs::to_string(j.st)) +
               (j.errors.empty() ? "" : ", last error: " + j.errors.back().message);
      },
      limit);
}

inline auto in_state(jobs::state s) {
  return [s](const jobs::job& j) { return j.st == s; };
}

// Enqueues one job and returns its id; max_attempts 0 leaves it to the kind's policy.
inline asio::awaitable<jobs::job_id> enqueue(runtime::runtime& rt, std::string kind,
                                             std::string payload = "{}", int max_attempts = 0) {
  jobs::new_job j;
  j.kind = std::move(kind);
  j.payload = std::move(payload);
  j.max_attempts = max_attempts;
  std::vector<jobs::new_job> batch{std::move(j)};
  co_return (co_await rt.enqueue(std::move(batch))).front().id;
}

}  // namespace spool::test
