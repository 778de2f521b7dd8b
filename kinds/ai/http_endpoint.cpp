#include "kinds/ai/http_endpoint.hpp"

namespace spool::kinds::ai {

std::variant<http_endpoint, std::string> parse_endpoint(std::string_view url) {
  const auto authority_start = url.find("://");
  if (url.find_first_of("?#") != std::string_view::npos &&
      (url.starts_with("http://") || url.starts_with("https://")))
    return "'" + std::string(url) + "' has a query or fragment; give the server's base URL";
  if (authority_start != std::string_view::npos) {
    const auto authority = url.substr(authority_start + 3, url.find('/', authority_start + 3) -
                                                               (authority_start + 3));
    if (authority.find('@') != std::string_view::npos)
      return "'" + std::string(url) + "' has user info; use inference.api_key instead";
  }
  auto parsed = http_client::parse_url(url);
  if (auto* why = std::get_if<std::string>(&parsed)) return std::move(*why);
  auto ep = std::get<http_endpoint>(std::move(parsed));
  std::string base = ep.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  ep.target = base + (base.ends_with("/v1") ? "/chat/completions" : "/v1/chat/completions");
  return ep;
}

}  // namespace spool::kinds::ai
