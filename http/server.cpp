#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

#include "runtime/log.hpp"
#include "runtime/spawn.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

server_options parse_listen(std::string_view spec, server_options base) {
  const auto colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    throw std::invalid_argument("expected HOST:PORT, got '" + std::string(spec) + "'");
  unsigned port = 0;
  const auto p = spec.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc{} || end != p.data() + p.size() || port > 65535)
    throw std::invalid_argument("bad port in '" + std::string(spec) + "'");
  base.address = std::string(spec.substr(0, colon));
  if (base.address.size() > 2 && base.address.front() == '[') base.address = base.address.substr(1, base.address.size() - 2);
  base.port = static_cast<unsigned short>(port);
  return base;
}

server::server(asio::any_io_executor ex, server_options options, api& handler)
    : ex_(ex), options_(std::move(options)), api_(handler), acceptor_(asio::make_strand(ex)) {
  const tcp::endpoint ep(asio::ip::make_address(options_.address), options_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void server::stop() {
  asio::dispatch(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> server::run() {
  log::info("http_listening").kv("address", options_.address).kv("port", static_cast<int>(port_));
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ex_), nothrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {  // e.g. out of file descriptors: do not spin
      log::warn("http_accept_failed").kv("error", ec.message());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(nothrow);
      continue;
    }
    auto ex = socket.get_executor();
    // Counted here, before the session runs, so a burst of connects cannot pass the limit.
    if (connections_->load() >= options_.max_connections) {
      asio::co_spawn(ex, refuse(std::move(socket)), runtime::log_escape("http_refuse"));
    } else {
      ++*connections_;
      asio::co_spawn(ex, session(std::move(socket)), runtime::log_escape("http_session"));
    }
  }
}

asio::awaitable<void> server::refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = error(503, "too_many_connections", "connection limit reached").body;
  res.keep_alive(false);
  res.prepare_payload();
  stream.expires_after(options_.timeout);
  co_await bhttp::async_write(stream, res, nothrow);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> server::session(tcp::socket socket) {
  struct release {
    std::shared_ptr<std::atomic<int>> n;
    ~release() { --*n; }
  } guard{connections_};
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header));
    parser.body_limit(options_.max_body);
    stream.expires_after(options_.timeout);  // a client that sends slowly is dropped
    auto [read_ec, _] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    response res;
    bool keep_alive = false;
    const auto started = std::chrono::steady_clock::now();
    std::string method, target;
    if (read_ec == bhttp::error::body_limit) {
      res = error(413, "payload_too_large", "request body exceeds " + std::to_string(options_.max_body) + " bytes");
    } else if (read_ec == bhttp::error::header_limit) {
      res = error(431, "headers_too_large", "request headers are too large");
    } else if (read_ec == bhttp::error::end_of_stream || read_ec == beast::error::timeout ||
               read_ec == asio::error::connection_reset || read_ec == asio::error::eof ||
               read_ec == bhttp::error::partial_message) {
      break;  // the client went away or stalled: nothing to answer
    } else if (read_ec) {
      res = error(400, "bad_request", "malformed HTTP request: " + read_ec.message());
    } else {
      auto& req = parser.get();
      method = std::string(req.method_string());
      target = std::string(req.target());
      request r{method, target, std::string(req[bhttp::field::authorization]), std::move(req.body())};
      r.content_type = std::string(req[bhttp::field::content_type]);
      r.origin = std::string(req[bhttp::field::origin]);
      r.sec_fetch_site = std::string(req["Sec-Fetch-Site"]);
      r.host = std::string(req[bhttp::field::host]);
      r.cookie = std::string(req[bhttp::field::cookie]);
      r.attempt_token = std::string(req["X-Spool-Attempt-Token"]);
      res = co_await api_.handle(r);
      keep_alive = req.keep_alive();
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), 11};
    out.set(bhttp::field::server, "spool");
    out.set(bhttp::field::content_type, res.content_type);
    out.set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : res.headers) out.set(name, value);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    stream.expires_after(options_.timeout);
    auto [write_ec, bytes] = co_await bhttp::async_write(stream, out, nothrow);
    // Reads that succeed (the dashboard polls every few seconds) at debug; changes and errors at info.
    const bool routine = (method == "GET" || method == "HEAD") && res.status < 400;
    log::line(routine ? log::level::debug : log::level::info, "http_request")
        .kv("method", method.empty() ? "-" : method)
        .kv("target", target.empty() ? "-" : target)
        .kv("status", static_cast<int>(res.status))
        .kv("bytes", bytes)
        .kv("ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count())
        .kv("remote", remote.address().to_string());
    if (write_ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace spool::http
