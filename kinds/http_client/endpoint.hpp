#pragma once
// Where an http:// or https:// URL points: host, port, request target and TLS. Shared by the
// openai backend (kinds/ai) and the HTTP kinds (kinds/http).
#include <string>
#include <string_view>
#include <variant>

namespace spool::kinds::http_client {

struct endpoint {
  bool tls = false;
  std::string host;         // a name or an IP address (IPv6 without brackets)
  std::string port;         // "80" and "443" by default
  std::string target;       // the URL's path and query; "/" when it has none
  std::string host_header;  // what the Host header says
};

// The endpoint, or why the URL is not usable (only http and https, no user info, no fragment).
std::variant<endpoint, std::string> parse_url(std::string_view url);

}  // namespace spool::kinds::http_client
