#pragma once
// One HTTP/1.1 connection to a server, plain or TLS (Beast). Every step honours an
// absolute deadline (the stream's timer) and the awaiting coroutine's cancellation slot, which
// Beast passes down to the socket: a cancelled job's exchange is aborted at once.
// Beast is heavy to compile: only the client's own .cpp files include this header.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <variant>

#include "kinds/http_client/endpoint.hpp"

namespace spool::kinds::http_client {

class http_connection {
 public:
  using steady = std::chrono::steady_clock;
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  explicit http_connection(boost::asio::any_io_executor ex);                    // http
  http_connection(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls);  // https

  // Resolves, connects and (for https) handshakes, verifying the server's certificate for its
  // host name. The error is operation_aborted if the caller was cancelled, beast::error::timeout
  // if the deadline passed.
  boost::asio::awaitable<boost::system::error_code> open(const endpoint& ep,
                                                         steady::time_point deadline);

  struct exchanged {
    boost::system::error_code ec;
    bool answered = false;  // bytes of an answer arrived (a failure after that is not a stale socket)
    response res;
    bool reusable = false;  // a complete answer that keeps the connection alive
  };
  boost::asio::awaitable<exchanged> exchange(const request& req, std::size_t body_limit,
                                             steady::time_point deadline);

  // Idle in the pool: no deadline, and the time it became idle.
  void park(steady::time_point now);
  steady::time_point parked_at() const { return parked_at_; }

 private:
  using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  boost::beast::tcp_stream& lowest();

  std::variant<boost::beast::tcp_stream, tls_stream> stream_;
  boost::beast::flat_buffer buffer_;
  steady::time_point parked_at_{};
};

}  // namespace spool::kinds::http_client
