#include "bench/http_kind.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <iostream>
#include <mutex>
#include <thread>

#include "kinds/http/http_kinds.hpp"
#include "persistence/store.hpp"
#include "runtime/runtime.hpp"

namespace spool::bench {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

// An application endpoint that answers 200 at once, keep-alive, on its own thread: it notes,
// for payloads that carry {"t": enqueue time in µs}, how long after the enqueue the request came.
class endpoint {
 public:
  endpoint() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc_, accept(), [](std::exception_ptr e) {
      if (e) std::cerr << "bench endpoint: accept loop failed\n";
    });
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~endpoint() {
    ioc_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/job"; }
  std::uint64_t requests() const { return requests_.load(); }
  std::vector<double> take_latencies_ms() {
    std::lock_guard lock(mutex_);
    return std::move(latencies_ms_);
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(ioc_, serve(std::move(socket)), [](std::exception_ptr) {});
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, nothrow);
      if (ec) co_return;
      const auto now_us = jobs::now().time_since_epoch().count();
      ++requests_;
      boost::system::error_code pec;
      const auto v = boost::json::parse(req.body(), pec);
      if (!pec) {
        const auto* t = v.at("payload").as_object().if_contains("t");
        if (t && t->is_int64()) {
          std::lock_guard lock(mutex_);
          latencies_ms_.push_back(static_cast<double>(now_us - t->get_int64()) / 1000.0);
        }
      }
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      res.keep_alive(true);
      res.prepare_payload();
      auto [wec, w] = co_await bhttp::async_write(socket, res, nothrow);
      if (wec) co_return;
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<std::uint64_t> requests_{0};
  std::mutex mutex_;
  std::vector<double> latencies_ms_;
};

double percentile(const std::vector<double>& sorted, double p) {
  return sorted.empty() ? 0.0 : sorted[std::min(sorted.size() - 1, std::size_t(p * sorted.size()))];
}

asio::awaitable<void> pause(steady::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

run_result http_kind_workload(const options& o, const std::string& db) {
  constexpr int probes = 500;  // the latency phase: 5 s at 100 jobs/s
  const int n = o.jobs;
  endpoint app;
  {
    auto st = store::open(db);
    st->migrate();
    std::vector<jobs::new_job> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back({.kind = "app", .payload = "{}"});
      if (batch.size() == 10000 || i + 1 == n) {
        st->insert(batch, jobs::now());
        batch.clear();
      }
    }
  }
  config::settings s;
  s.db = db;
  s.workers = o.workers;
  s.queues = {{"default", o.concurrency}};
  s.log_level = o.log_level;
  s.enqueue_durability = o.relaxed ? "relaxed" : "full";
  config::http_kind_settings kind;
  kind.kind = "app";
  kind.url = app.url();
  kind.timeout_s = 30;
  s.http_kinds.push_back(kind);

  run_result r;
  r.jobs = n;
  asio::io_context ioc(runtime::io_threads(s));
  jobs::registry kinds;
  kinds::http::register_http_kinds(kinds, s, ioc.get_executor(), [](const char*) -> const char* { return nullptr; });
  runtime::runtime rt(ioc.get_executor(), s, std::move(kinds));
  std::exception_ptr failure;
  asio::co_spawn(ioc, rt.run(), [&](std::exception_ptr e) {
    if (e) failure = e;
  });
  auto scenario = [&]() -> asio::awaitable<void> {
    const auto start = steady::now();
    while (rt.committed() < static_cast<std::uint64_t>(n)) {
      if (steady::now() - start > 600s) throw std::runtime_error("timed out waiting for completions");
      co_await pause(500us);
    }
    r.seconds = std::chrono::duration<double>(steady::now() - start).count();
    // Idle again: a steady 100 jobs/s, each stamped with its enqueue time.
    const auto paced = steady::now();
    for (int i = 0; i < probes; ++i) {
      co_await asio::steady_timer(co_await asio::this_coro::executor, paced + i * 10ms)
          .async_wait(asio::use_awaitable);
      const auto t = jobs::now().time_since_epoch().count();
      std::vector<jobs::new_job> one{{.kind = "app", .payload = "{\"t\":" + std::to_string(t) + "}"}};
      co_await rt.enqueue(std::move(one));
    }
    while (rt.committed() < static_cast<std::uint64_t>(n + probes)) co_await pause(1ms);
  };
  asio::co_spawn(ioc, scenario(), [&](std::exception_ptr e) {
    if (e) failure = e;
    rt.stop();
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < runtime::io_threads(s); ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  auto lat = app.take_latencies_ms();
  std::sort(lat.begin(), lat.end());
  r.extra["p50_ms"] = percentile(lat, 0.50);
  r.extra["p99_ms"] = percentile(lat, 0.99);
  r.extra["requests"] = static_cast<double>(app.requests());
  if (static_cast<int>(lat.size()) != probes) r.problems.push_back("not every probe reached the endpoint");
  if (app.requests() != static_cast<std::uint64_t>(n + probes))
    r.problems.push_back(std::to_string(app.requests()) + " requests for " + std::to_string(n + probes) + " jobs");
  auto counts = store::open(db)->count(jobs::now());
  if (counts.states["completed"] != n + probes)
    r.problems.push_back("completed " + std::to_string(counts.states["completed"]) + " of " +
                         std::to_string(n + probes));
  return r;
}

}  // namespace spool::bench
