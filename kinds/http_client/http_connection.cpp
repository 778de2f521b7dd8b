#include "kinds/http_client/http_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>

namespace spool::kinds::http_client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace asio::experimental::awaitable_operators;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

// getaddrinfo cannot be interrupted: the lookup runs on its own and hands its answer over a
// channel, so that a cancelled or timed-out caller stops waiting at once and the lookup's late
// answer just goes nowhere.
asio::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(
    const endpoint& ep, std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  error_code ec;
  const auto address = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    const tcp::endpoint literal(address, static_cast<unsigned short>(std::stoi(ep.port)));
    co_return std::pair{error_code{}, tcp::resolver::results_type::create(literal, ep.host, ep.port)};
  }
  using channel = asio::experimental::concurrent_channel<void(error_code, tcp::resolver::results_type)>;
  auto answer = std::make_shared<channel>(ex, 1);
  auto resolver = std::make_shared<tcp::resolver>(ex);
  resolver->async_resolve(ep.host, ep.port,
                          [answer, resolver](error_code e, tcp::resolver::results_type r) {
                            answer->try_send(e, std::move(r));
                          });
  asio::steady_timer timer(ex, deadline);
  auto got = co_await (answer->async_receive(nothrow) || timer.async_wait(nothrow));
  if (got.index() == 1)
    co_return std::pair{error_code(beast::error::timeout), tcp::resolver::results_type{}};
  // The lookup's own error, or the channel's (operation_aborted when the wait was cancelled).
  auto [ec2, results] = std::get<0>(std::move(got));
  co_return std::pair{ec2, std::move(results)};
}

}  // namespace

http_connection::http_connection(asio::any_io_executor ex)
    : stream_(std::in_place_index<0>, std::move(ex)) {}

http_connection::http_connection(asio::any_io_executor ex, asio::ssl::context& tls)
    : stream_(std::in_place_index<1>, std::move(ex), tls) {}

beast::tcp_stream& http_connection::lowest() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream_);
}

asio::awaitable<error_code> http_connection::open(const endpoint& ep,
                                                  steady::time_point deadline) {
  auto [resolve_ec, endpoints] = co_await resolve(ep, deadline);
  if (resolve_ec) co_return resolve_ec;
  lowest().expires_at(deadline);
  auto [connect_ec, _] = co_await lowest().async_connect(endpoints, nothrow);
  if (connect_ec) co_return connect_ec;
  lowest().socket().set_option(tcp::no_delay(true));
  if (auto* tls = std::get_if<tls_stream>(&stream_)) {
    error_code ec;
    asio::ip::make_address(ep.host, ec);
    // SNI, which servers behind a shared address need; RFC 6066 forbids it for IP addresses.
    if (ec && !SSL_set_tlsext_host_name(tls->native_handle(), ep.host.c_str()))
      co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    tls->set_verify_mode(asio::ssl::verify_peer);
    tls->set_verify_callback(asio::ssl::host_name_verification(ep.host));
    auto [handshake_ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, nothrow);
    if (handshake_ec) co_return handshake_ec;
  }
  co_return error_code{};
}

asio::awaitable<http_connection::exchanged> http_connection::exchange(const request& req,
                                                                      std::size_t body_limit,
                                                                      steady::time_point deadline) {
  exchanged out;
  lowest().expires_at(deadline);  // one deadline for writing the request and reading the answer
  // Both stream types give the same awaitable type, so one co_await serves both. Named lambdas:
  // see the GCC 12 note in persistence/serial_executor.hpp.
  auto write = [&req](auto& s) { return bhttp::async_write(s, req, nothrow); };
  auto [write_ec, written] = co_await std::visit(write, stream_);
  (void)written;
  if (write_ec) {
    out.ec = write_ec;
    co_return out;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  auto read = [this, &parser](auto& s) { return bhttp::async_read(s, buffer_, parser, nothrow); };
  auto [read_ec, read_bytes] = co_await std::visit(read, stream_);
  out.answered = read_bytes > 0 || parser.got_some();
  if (read_ec) {
    out.ec = read_ec;
    co_return out;
  }
  out.reusable = parser.get().keep_alive() && parser.is_done();
  out.res = parser.release();
  co_return out;
}

void http_connection::park(steady::time_point now) {
  lowest().expires_never();
  parked_at_ = now;
}

}  // namespace spool::kinds::http_client
