#include "kinds/http_client/endpoint.hpp"

#include <charconv>

namespace spool::kinds::http_client {

std::variant<endpoint, std::string> parse_url(std::string_view url) {
  endpoint ep;
  std::string_view rest;
  if (url.starts_with("https://")) {
    ep.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return "'" + std::string(url) + "' is not an http:// or https:// URL";
  }
  if (rest.find('#') != std::string_view::npos)
    return "'" + std::string(url) + "' has a fragment, which is never sent to a server";
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return "'" + std::string(url) + "' has user info";

  std::string_view port;
  if (authority.starts_with("[")) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "'" + std::string(url) + "' has an unclosed '['";
    ep.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "'" + std::string(url) + "' has junk after ']'";
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return "'" + std::string(url) + "' names no host";
  if (!port.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || end != port.data() + port.size() || n == 0 || n > 65535)
      return "'" + std::string(url) + "' has a bad port '" + std::string(port) + "'";
    ep.port = std::string(port);
  } else {
    ep.port = ep.tls ? "443" : "80";
  }
  ep.host_header = std::string(authority);
  ep.target = target.starts_with('/') ? std::string(target) : "/" + std::string(target);
  return ep;
}

}  // namespace spool::kinds::http_client
