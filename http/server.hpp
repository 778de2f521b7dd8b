#pragma once
// The admin HTTP server: an acceptor coroutine and one coroutine per connection (Beast), with
// read/write timeouts, header and body limits, keep-alive and a cap on open connections.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "http/api.hpp"

namespace spool::http {

struct server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::size_t max_body = 1 << 20;
  std::size_t max_header = 16 << 10;
  std::chrono::milliseconds timeout{10000};  // to read one request, and to write one response
  int max_connections = 512;
};

// "HOST:PORT" as given to --http; throws std::invalid_argument.
server_options parse_listen(std::string_view spec, server_options base = {});

class server {
 public:
  // Binds at once, so a busy port is an error here; throws boost::system::system_error.
  server(boost::asio::any_io_executor ex, server_options options, api& handler);
  unsigned short port() const { return port_; }
  boost::asio::awaitable<void> run();
  void stop();  // any thread

 private:
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::any_io_executor ex_;
  server_options options_;
  api& api_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  // Shared with the sessions: a session still open when the io_context is destroyed (after the
  // server, in `spool run`) is destroyed with it, and its count must still be there.
  std::shared_ptr<std::atomic<int>> connections_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace spool::http
