#pragma once
// The runtime's admin HTTP API as the e2e tests use it: find the port a runtime bound (it logs
// `http_listening`; tests start it with SPOOL_HTTP=127.0.0.1:0) and make one request per
// connection with a deadline. Plain POSIX sockets: the tests need no HTTP library of their own.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tests/e2e/process.hpp"

namespace spool::e2e {

struct http_reply {
  int status = 0;  // 0: no answer (connection refused or reset, or the deadline passed)
  std::string body;
  std::string error;  // why there was no answer
  bool answered() const { return status != 0; }
};

// One request to 127.0.0.1:port, `Connection: close`, JSON body. Never throws.
http_reply http_request(unsigned short port, std::string_view method, std::string_view target,
                        std::string_view body = {}, steady::duration timeout = 30s);

// The port of the runtime's admin endpoint, from its log; fails the test if it is not logged
// within `timeout` or the runtime ends first.
unsigned short admin_port(process& runtime, steady::duration timeout = 20s);

// The body as a JSON object, or nullopt if it is not one.
std::optional<boost::json::object> json_body(const http_reply& reply);

// "201 {...}" or "no answer: ..." for failure messages.
std::string describe(const http_reply& reply);

}  // namespace spool::e2e
