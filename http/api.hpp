#pragma once
// The admin API: checks the token, routes a request to its handler and answers with JSON. No
// sockets here; the server feeds it requests, the tests can too. Its resources are in
// http/routes/; an application layer adds its own routes through routes().
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/session.hpp"

namespace spool::runtime {
class runtime;
}

namespace spool::http {

struct api_options {
  // Bearer token for /api (and, by default, /metrics). The dashboard's page itself is served without
  // it (it holds no data); the page signs in with the token once and gets a session cookie.
  std::optional<std::string> token;
  bool protect_metrics = true;  // with a token: /metrics needs it too (a session cookie does not do)
  std::chrono::seconds session_ttl{28800};
};

// The cookie that carries a dashboard session.
inline constexpr std::string_view session_cookie = "spool_session";

class api {
 public:
  // With the API's own resources routed.
  api(runtime::runtime& rt, api_options options);
  boost::asio::awaitable<response> handle(const request& req);
  // Add routes before the server starts: the table is read without a lock.
  router& routes() { return routes_; }

 private:
  bool bearer_ok(const request& req) const;
  bool session_ok(const request& req) const;
  boost::asio::awaitable<response> sign_in(const exchange& x);
  response sign_out(const exchange& x);
  runtime::runtime& rt_;
  api_options options_;
  router routes_;
  std::unique_ptr<session_table> sessions_;
};

// Compares in time that depends only on the lengths, not on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace spool::http
