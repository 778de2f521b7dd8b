#pragma once
// An HTTP exchange as plain values: the API is written against these, not against sockets.
#include <string>
#include <utility>
#include <vector>

namespace spool::http {

struct request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string authorization;
  std::string body;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error":{"code":...,"message":...}} with the status.
response error(unsigned status, std::string_view code, std::string_view message);

}  // namespace spool::http
