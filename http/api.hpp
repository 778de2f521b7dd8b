#pragma once
// The admin API: checks the token, routes a request to its handler and answers with JSON. No
// sockets here; the server feeds it requests, the tests can too. Its resources are in
// http/routes/; an application layer adds its own routes through routes().
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "http/message.hpp"
#include "http/router.hpp"

namespace spool::runtime {
class runtime;
}

namespace spool::http {

struct api_options {
  std::optional<std::string> token;  // bearer token for /api (and, by default, /metrics and /)
  bool protect_metrics = true;       // with a token: /metrics and the dashboard need it too
};

class api {
 public:
  // With the API's own resources routed.
  api(runtime::runtime& rt, api_options options);
  boost::asio::awaitable<response> handle(const request& req);
  // Add routes before the server starts: the table is read without a lock.
  router& routes() { return routes_; }

 private:
  bool authorized(const request& req) const;
  runtime::runtime& rt_;
  api_options options_;
  router routes_;
};

// Compares in time that depends only on the lengths, not on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace spool::http
