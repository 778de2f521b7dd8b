#pragma once
// Runs a runtime with the built-in AI kinds in-process, like tests/runtime/runtime_test.cpp:
// a 2-thread io_context, its own scratch database (SQLite, or PostgreSQL when
// SPOOL_STORE_BACKEND says so), `scenario` ending by returning (which stops it).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "jobs/json.hpp"
#include "kinds/ai/kinds.hpp"
#include "kinds/ai/schema.hpp"
#include "persistence/db_executor.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/printers.hpp"
#include "tests/support/scratch_db.hpp"

namespace spool::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

struct ai_harness {
  scratch_db db;
  config::settings settings;

  ai_harness() {
    settings.db = db.url();
    settings.poll_interval_s = 0.2;
    settings.grace_s = 5;
    settings.queues = {{"default", 20}};
    settings.log_level = "error";
    settings.profiles.debounce_s = 0.05;
  }

  // Points the kinds at an OpenAI-compatible server.
  void use_openai(const std::string& url) {
    settings.inference.backend = "openai";
    settings.inference.url = url;
    settings.inference.model = "test-model";
    settings.inference.api_key = "sk-test";
    settings.inference.timeout_s = 30;
  }

  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(2);
    // Made before the runtime and destroyed after it: the handlers hold it.
    auto svc = kinds::ai::make_services(ioc.get_executor(), settings);
    jobs::registry kinds;
    kinds::ai::register_kinds(kinds, svc, settings);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds), {kinds::ai::schema()});
    bool ran = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
      ran = true;
      if (e) failure = e;
    });
    asio::co_spawn(ioc, scenario(rt, *svc), [&](std::exception_ptr e) {
      if (e) failure = e;
      rt.stop();
    });
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    BOOST_TEST(ran);
    if (failure) std::rethrow_exception(failure);
  }
};

inline asio::awaitable<jobs::job> job_of(runtime::runtime& rt, jobs::job_id id) {
  auto get = [id](store::store& s) { return s.get(id, jobs::now()); };
  auto j = co_await rt.db().run(std::move(get));
  if (!j) throw std::runtime_error("job " + std::to_string(id) + " not found");
  co_return *j;
}

// Polls the job until `pred` holds; fails after `limit` naming the state it is stuck in.
template <class Pred>
asio::awaitable<jobs::job> await_job(runtime::runtime& rt, jobs::job_id id, Pred pred,
                                     std::chrono::milliseconds limit = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto j = co_await job_of(rt, id);
    if (pred(j)) co_return j;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("job " + std::to_string(id) + " stuck in state " +
                               std::string(jobs::to_string(j.st)) +
                               (j.errors.empty() ? "" : ", last error: " + j.errors.back().message));
    co_await sleep_for(5ms);
  }
}

inline auto in_state(jobs::state s) {
  return [s](const jobs::job& j) { return j.st == s; };
}

inline std::string activity_payload(const std::string& user, const std::string& id,
                                    const std::string& text, int minute = 0) {
  const auto at = *jobs::parse_rfc3339("2026-11-28T10:00:00Z") + std::chrono::minutes(minute);
  return boost::json::serialize(boost::json::object{{"user_id", user},
                                                    {"activity_id", id},
                                                    {"type", "note"},
                                                    {"text", text},
                                                    {"occurred_at", jobs::to_rfc3339(at)}});
}

inline asio::awaitable<jobs::job_id> enqueue_activity(runtime::runtime& rt, std::string payload) {
  jobs::new_job j;
  j.kind = "activity_processing";
  j.payload = std::move(payload);
  std::vector<jobs::new_job> batch{std::move(j)};
  co_return (co_await rt.enqueue(std::move(batch))).front().id;
}

// Runs `f(results_store&)` on the kinds' own db thread.
template <class F>
asio::awaitable<std::invoke_result_t<F, kinds::ai::results_store&>> on_results(
    kinds::ai::services& svc, F f) {
  co_return co_await svc.results->run(std::move(f));
}

}  // namespace spool::test
