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
  // Headers the endpoint's CSRF check and sessions read; "" when absent.
  std::string content_type = {};
  std::string origin = {};
  std::string sec_fetch_site = {};
  std::string host = {};
  std::string cookie = {};
  std::string attempt_token = {};  // X-Spool-Attempt-Token: an HTTP kind's application calling back
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
