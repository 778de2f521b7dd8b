#pragma once
// A runtime (set up as tests/support/runtime_harness.hpp sets one up) and its Beast server on
// 127.0.0.1:0, running on two background threads, and a blocking HTTP client with deadlines for
// the test thread. Every wait has a limit.
#include <poll.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "http/api.hpp"
#include "http/server.hpp"
#include "runtime/spawn.hpp"
#include "tests/support/runtime_harness.hpp"

namespace spool::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class live_server {
 public:
  explicit live_server(http::server_options options = {}, http::api_options api_options = {}) {
    setup_.settings.grace_s = 1;
    ioc_ = std::make_unique<asio::io_context>(2);
    rt_ = std::make_unique<runtime::runtime>(ioc_->get_executor(), setup_.settings, std::move(setup_.kinds));
    api_ = std::make_unique<http::api>(*rt_, std::move(api_options));
    options.address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<http::server>(ioc_->get_executor(), options, *api_);
    asio::co_spawn(*ioc_, server_->run(), runtime::log_escape("test_http_server"));
    asio::co_spawn(*ioc_, rt_->run(), runtime::log_escape("test_runtime"));
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] {
        ioc_->run();
        --running_;
      });
  }

  // Stops server and runtime and waits for every coroutine to end (clients must have closed
  // their connections, or the server's timeout must have dropped them).
  ~live_server() {
    server_->stop();
    rt_->stop_now();
    const auto deadline = steady::now() + 20s;
    while (running_ > 0 && steady::now() < deadline) std::this_thread::sleep_for(5ms);
    if (running_ > 0) {
      BOOST_ERROR("the server or the runtime did not stop within 20 s");
      ioc_->stop();
      for (auto& t : threads_) t.join();
      // Coroutines still refer to these objects: leak them rather than destroy them under those.
      (void)server_.release(), (void)api_.release(), (void)rt_.release(), (void)ioc_.release();
      return;
    }
    for (auto& t : threads_) t.join();
  }

  unsigned short port() const { return server_->port(); }
  runtime::runtime& rt() { return *rt_; }

  // Runs `op()` (an awaitable) on the server's io_context and waits for its result.
  template <class Op>
  auto on_server(Op op) {
    return asio::co_spawn(*ioc_, std::move(op), asio::use_future).get();
  }

 private:
  runtime_setup setup_;
  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<runtime::runtime> rt_;
  std::unique_ptr<http::api> api_;
  std::unique_ptr<http::server> server_;
  std::vector<std::thread> threads_;
  std::atomic<int> running_{2};
};

using response = bhttp::response<bhttp::string_body>;

// One client connection. Each call runs its own io_context until the operation completes or
// its time limit passes (then the connection is closed and the call reports a timeout).
class client {
 public:
  explicit client(unsigned short port) : stream_(ioc_) {
    stream_.expires_after(5s);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  boost::system::error_code write(std::string_view bytes, std::chrono::milliseconds limit = 5s) {
    boost::system::error_code result;
    stream_.expires_after(limit);
    asio::async_write(stream_, asio::buffer(bytes),
                      [&](boost::system::error_code ec, std::size_t) { result = ec; });
    run();
    return result;
  }

  // One response, or nothing (and the reason in last_error()) within `limit`.
  std::optional<response> read(std::chrono::milliseconds limit = 5s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    stream_.expires_after(limit);
    bhttp::async_read(stream_, buffer_, parser,
                      [&](boost::system::error_code ec, std::size_t) { error_ = ec; });
    run();
    if (error_) return std::nullopt;
    return parser.release();
  }

  // Writes `raw` while reading the answer, as a client streaming a large body would.
  std::optional<response> send_and_read(std::string_view raw, std::chrono::milliseconds limit = 10s) {
    bhttp::response_parser<bhttp::string_body> parser;
    stream_.expires_after(limit);
    asio::async_write(stream_, asio::buffer(raw), [](boost::system::error_code, std::size_t) {});
    bhttp::async_read(stream_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) {
      error_ = ec;
      // The server answered: stop sending the rest of the body.
      boost::system::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
    run();
    if (error_) return std::nullopt;
    return parser.release();
  }

  std::optional<response> request(std::string_view method, std::string_view target, std::string body = {},
                                  std::string authorization = {}) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    if (!body.empty() || method != "GET") req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    std::ostringstream raw;
    raw << req;
    if (auto ec = write(raw.str())) {
      error_ = ec;
      return std::nullopt;
    }
    return read();
  }

  // Waits for the server to close the connection: eof (or a reset) when it did, timeout when not.
  // Any bytes that arrive first are returned through `received`.
  boost::system::error_code wait_closed(std::chrono::milliseconds limit, std::string* received = nullptr) {
    std::string got;
    boost::system::error_code result;
    std::array<char, 4096> chunk;
    std::function<void()> next = [&] {
      stream_.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
        got.append(chunk.data(), n);
        if (ec)
          result = ec;
        else
          next();
      });
    };
    stream_.expires_after(limit);
    next();
    run();
    if (received) *received = got;
    return result;
  }

  // Whether the connection is readable (data or the server's close) without waiting.
  bool readable_now() {
    pollfd p{stream_.socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  boost::system::error_code last_error() const { return error_; }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  boost::system::error_code error_;
};

// Polls until `pred` holds; fails the test with `what` after `limit`.
template <class Pred>
void eventually(Pred pred, std::chrono::milliseconds limit, const std::string& what) {
  const auto deadline = steady::now() + limit;
  while (!pred()) {
    BOOST_REQUIRE_MESSAGE(steady::now() < deadline, what << " (after " << limit.count() << " ms)");
    std::this_thread::sleep_for(10ms);
  }
}

// POST /api/v1/jobs on a new connection; requires 201 and returns the job's id.
inline std::int64_t create_job(unsigned short port, const std::string& body) {
  client c(port);
  auto r = c.request("POST", "/api/v1/jobs", body);
  BOOST_REQUIRE_MESSAGE(r && r->result_int() == 201,
                        "POST " << body << ": " << (r ? r->body() : c.last_error().message()));
  return boost::json::parse(r->body()).at("id").as_int64();
}

// The job's state, from GET /api/v1/jobs/{id} on a new connection.
inline std::string job_state(unsigned short port, std::int64_t id) {
  client c(port);
  auto r = c.request("GET", "/api/v1/jobs/" + std::to_string(id));
  BOOST_REQUIRE_MESSAGE(r && r->result_int() == 200, "GET job " << id);
  return std::string(boost::json::parse(r->body()).at("state").as_string());
}

inline bool connection_closed(boost::system::error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == bhttp::error::end_of_stream;
}

}  // namespace spool::test
