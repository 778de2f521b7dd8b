#pragma once
// Drives spool::http::api in-process: a real runtime on a temp SQLite database, with the
// diagnostic kinds, on a two-thread io_context. A scenario coroutine sends requests as values and
// reads the answers; no sockets involved.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <thread>

#include "http/api.hpp"
#include "kinds/diagnostic.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/temp_dir.hpp"

namespace spool::test {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

struct api_harness {
  temp_dir dir;
  config::settings settings;
  jobs::registry kinds;

  api_harness() {
    settings.db = dir.db_url();
    settings.poll_interval_s = 0.2;
    settings.grace_s = 1;
    settings.queues = {{"default", 10}, {"other", 2}};
    settings.log_level = "error";
    kinds::register_diagnostic(kinds);
  }

  // Runs `scenario(rt, api)` with an api built from `options`; the runtime stops when it ends.
  template <class Scenario>
  void run(Scenario scenario, http::api_options options = {}) {
    asio::io_context ioc(2);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
    http::api api(rt, std::move(options));
    bool ran = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
      ran = true;
      if (e) failure = e;
    });
    asio::co_spawn(ioc, scenario(rt, api), [&](std::exception_ptr e) {
      if (e) failure = e;
      rt.stop_now();
    });
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    BOOST_TEST(ran);
    if (failure) std::rethrow_exception(failure);
  }
};

inline asio::awaitable<http::response> call(http::api& api, std::string method, std::string target,
                                            std::string body = {}, std::string authorization = {}) {
  http::request req{std::move(method), std::move(target), std::move(authorization), std::move(body)};
  co_return co_await api.handle(req);
}

// The response body as JSON; fails the test (with the body) when it is not JSON.
inline json::value body_of(const http::response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "response body is not JSON: " << r.body);
  return v;
}

// The `code` of an {"error":{"code","message"}} answer; "" (and a test failure) for other shapes.
inline std::string error_code(const http::response& r) {
  auto v = body_of(r);
  const auto* err = v.is_object() ? v.get_object().if_contains("error") : nullptr;
  const bool shaped = err && err->is_object() && err->get_object().if_contains("code") &&
                      err->get_object().if_contains("message") && err->at("code").is_string() &&
                      err->at("message").is_string();
  BOOST_TEST_MESSAGE("error body: " << r.body);
  if (!shaped) {
    BOOST_ERROR("not an error body: " << r.body);
    return "";
  }
  return std::string(err->at("code").get_string());
}

inline std::string header(const http::response& r, std::string_view name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

inline asio::awaitable<json::object> get_job(http::api& api, std::int64_t id) {
  auto r = co_await call(api, "GET", "/api/v1/jobs/" + std::to_string(id));
  if (r.status != 200) throw std::runtime_error("GET job " + std::to_string(id) + ": " + r.body);
  co_return body_of(r).as_object();
}

inline std::string state_of(const json::object& job) { return std::string(job.at("state").as_string()); }

// Polls GET /api/v1/jobs/{id} until the job is in `state`; throws with the last state after `limit`.
inline asio::awaitable<json::object> await_state(http::api& api, std::int64_t id, std::string state,
                                                 std::chrono::milliseconds limit = 10s,
                                                 std::chrono::milliseconds every = 5ms) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    auto job = co_await get_job(api, id);
    if (state_of(job) == state) co_return job;
    if (steady::now() > deadline)
      throw std::runtime_error("job " + std::to_string(id) + " is " + state_of(job) + ", not " + state +
                               " after " + std::to_string(limit.count()) + " ms");
    co_await sleep_for(every);
  }
}

// POST /api/v1/jobs with `body`; requires 201 and returns the job's id.
inline asio::awaitable<std::int64_t> create(http::api& api, std::string body) {
  auto r = co_await call(api, "POST", "/api/v1/jobs", body);
  if (r.status != 201)
    throw std::runtime_error("POST " + body + " answered " + std::to_string(r.status) + ": " + r.body);
  co_return body_of(r).at("id").as_int64();
}

}  // namespace spool::test
