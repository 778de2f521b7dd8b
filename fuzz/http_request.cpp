// Fuzz target: raw bytes from a client -> Beast's request parser with the server's limits ->
// spool::http::api (router, authorization, handlers) -> a real runtime on a temp SQLite database.
// Several pipelined requests in one input are served in turn while the client keeps the
// connection alive, as http/server.cpp does. The runtime lives across inputs, like a server's.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "http/api.hpp"
#include "http/server.hpp"
#include "runtime/runtime.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace spool;

// One runtime for the whole fuzzing run, as a server has. It is stopped (not destroyed) at exit,
// before the static objects its threads use go away.
struct fixture {
  asio::io_context ioc{2};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  runtime::runtime* rt = nullptr;
  http::api* api = nullptr;
  http::api* api_with_token = nullptr;
  http::server_options limits;  // the server's defaults: max_header 16 KiB, max_body 1 MiB

  fixture() {
    // tmpfs when there is one: every enqueue commits with synchronous=FULL.
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string dir = (base / "spool-fuzz-http-XXXXXX").string();
    if (!mkdtemp(dir.data())) std::abort();
    config::settings s;
    s.db = "sqlite:" + dir + "/fuzz.db";
    s.queues = {{"default", 4}, {"other", 1}};
    s.log_level = "error";
    s.poll_interval_s = 0.5;
    s.grace_s = 0;
    jobs::registry kinds;
    // Only a harmless kind: the diagnostic "abort" kind would end the fuzzer on purpose.
    kinds.add("noop", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
      co_return jobs::outcome::success();
    });
    rt = new runtime::runtime(ioc.get_executor(), s, std::move(kinds));
    api = new http::api(*rt, {});
    api_with_token = new http::api(*rt, {std::string("fuzz-token"), true});
    asio::co_spawn(ioc, rt->run(), [this](std::exception_ptr e) {
      if (e) std::abort();  // the runtime must not fail on anything a client sends
      stopped.set_value();
    });
    for (auto& t : threads) t = std::thread([this] { ioc.run(); });
  }

  void stop() {
    rt->stop_now();
    stopped.get_future().wait();
    work.reset();
    for (auto& t : threads) t.join();
  }

  std::promise<void> stopped;
  std::thread threads[2];
};

fixture& the_fixture() {
  static fixture* f = [] {
    auto* made = new fixture;
    std::atexit([] { the_fixture().stop(); });
    return made;
  }();
  return *f;
}

// What http::server answers for a parse error (nothing when the client went away).
std::optional<http::response> parse_failure(const beast::error_code& ec, const http::server_options& o) {
  if (ec == bhttp::error::body_limit)
    return http::error(413, "payload_too_large", "request body exceeds " + std::to_string(o.max_body) + " bytes");
  if (ec == bhttp::error::header_limit) return http::error(431, "headers_too_large", "request headers are too large");
  if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream) return std::nullopt;
  return http::error(400, "bad_request", "malformed HTTP request: " + ec.message());
}

// Every answer has a real status, 5xx only when the database fails (503; a 500 means a handler
// threw), and a JSON answer is JSON.
void check(const http::response& r) {
  if (r.status < 200 || r.status > 599) std::abort();
  if (r.status >= 500 && r.status != 503) std::abort();
  if (r.content_type == "application/json") {
    boost::system::error_code ec;
    (void)boost::json::parse(r.body, ec);
    if (ec) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = the_fixture();
  // The first byte picks the API's authorization setup; the rest is what the client sent.
  if (size == 0) return 0;
  http::api& api = (data[0] & 1) ? *f.api_with_token : *f.api;
  beast::flat_buffer buffer;
  if (size > 1) {
    auto input = buffer.prepare(size - 1);
    std::memcpy(input.data(), data + 1, size - 1);
    buffer.commit(size - 1);
  }

  for (int served = 0; served < 8; ++served) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(f.limits.max_header));
    parser.body_limit(f.limits.max_body);
    parser.eager(true);  // as http::async_read parses
    beast::error_code ec;
    // As http::async_read does, except that the whole input is already in the buffer: when the
    // parser makes no progress, more bytes would have to come, and the client has sent them all.
    while (!parser.is_done()) {
      const auto used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) break;
      if (used > 0) continue;
      if (!parser.got_some()) {
        ec = bhttp::error::end_of_stream;
      } else {
        parser.put_eof(ec);
        if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
      }
      break;
    }
    if (ec) {
      if (auto r = parse_failure(ec, f.limits)) check(*r);
      return 0;
    }
    auto& req = parser.get();
    http::request r{std::string(req.method_string()), std::string(req.target()),
                    std::string(req[bhttp::field::authorization]), std::move(req.body())};
    r.content_type = std::string(req[bhttp::field::content_type]);
    r.origin = std::string(req[bhttp::field::origin]);
    r.sec_fetch_site = std::string(req["Sec-Fetch-Site"]);
    r.host = std::string(req[bhttp::field::host]);
    r.cookie = std::string(req[bhttp::field::cookie]);
    auto answer = asio::co_spawn(f.ioc, api.handle(r), asio::use_future).get();
    check(answer);
    if (!req.keep_alive() || buffer.size() == 0) return 0;
  }
  return 0;
}
