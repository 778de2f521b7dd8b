#pragma once
// The runtime harness with spool::http::api over the runtime: a scenario coroutine sends requests
// as values and reads the answers; no sockets involved.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "http/api.hpp"
#include "tests/support/runtime_harness.hpp"

namespace spool::test {

namespace json = boost::json;

struct api_harness : runtime_harness {
  api_harness() {
    settings.grace_s = 1;
    settings.queues = {{"default", 10}, {"other", 2}};
    at_end = shutdown::immediate;
  }

  // Runs `scenario(rt, api)` with an api built from `options`; the runtime stops when it ends.
  template <class Scenario>
  void run(Scenario scenario, http::api_options options = {}) {
    asio::io_context ioc(threads);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds));
    http::api api(rt, std::move(options));
    drive(ioc, rt, scenario(rt, api));
  }
};

inline const std::string noop = R"({"kind":"noop"})";

inline asio::awaitable<http::response> call(http::api& api, std::string method, std::string target,
                                            std::string body = {}, std::string authorization = {}) {
  http::request req{std::move(method), std::move(target), std::move(authorization), std::move(body)};
  // As a script or the dashboard sends it: state changes are JSON (http/csrf.hpp).
  if (req.method != "GET") req.content_type = "application/json";
  req.host = "127.0.0.1:8080";
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

// The number of jobs in a GET /api/v1/jobs answer.
inline std::int64_t count_of(const json::value& list) {
  return static_cast<std::int64_t>(list.at("jobs").as_array().size());
}

inline std::string state_of(const json::object& job) { return std::string(job.at("state").as_string()); }

// Polls GET /api/v1/jobs/{id} until the job is in `state`; throws with the last state after `limit`.
inline asio::awaitable<json::object> await_state(http::api& api, std::int64_t id, std::string state,
                                                 std::chrono::milliseconds limit = 10s,
                                                 std::chrono::milliseconds every = 5ms) {
  co_return co_await poll_until(
      [&api, id] { return get_job(api, id); },
      [&state](const json::object& job) { return state_of(job) == state; },
      [&](const json::object& job) {
        return "job " + std::to_string(id) + " is " + state_of(job) + ", not " + state + " after " +
               std::to_string(limit.count()) + " ms";
      },
      limit, every);
}

// POST /api/v1/jobs with `body`; requires 201 and returns the job's id.
inline asio::awaitable<std::int64_t> create(http::api& api, std::string body) {
  auto r = co_await call(api, "POST", "/api/v1/jobs", body);
  if (r.status != 201)
    throw std::runtime_error("POST " + body + " answered " + std::to_string(r.status) + ": " + r.body);
  co_return body_of(r).at("id").as_int64();
}

}  // namespace spool::test
