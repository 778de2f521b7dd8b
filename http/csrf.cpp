#include "http/csrf.hpp"

#include <cctype>

namespace spool::http {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "host:port" without the scheme's default port, lowercased, so "127.0.0.1:80" equals "127.0.0.1".
std::string authority(std::string_view hostport, std::string_view scheme) {
  std::string out;
  for (char c : hostport) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  // An IPv6 literal ends with ']' when it has no port.
  if (out.size() > default_port.size() && out.ends_with(default_port)) out.resize(out.size() - default_port.size());
  return out;
}

bool same_origin(std::string_view origin, std::string_view host) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos || host.empty()) return false;
  std::string scheme;
  for (char c : origin.substr(0, sep)) scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return false;
  auto rest = origin.substr(sep + 3);
  if (rest.find('/') != std::string_view::npos) return false;  // an Origin has no path
  return authority(rest, scheme) == authority(trim(host), scheme);
}

csrf_decision refuse(unsigned status, std::string code, std::string reason) {
  return {false, status, std::move(code), std::move(reason)};
}

}  // namespace

csrf_decision decide_csrf(const request_origin& r) {
  if (r.method == "GET" || r.method == "HEAD" || r.method == "OPTIONS") return {};
  const auto site = trim(r.sec_fetch_site);
  if (iequal(site, "cross-site") || iequal(site, "same-site"))
    return refuse(403, "cross_site_request",
                  "refused: the browser says this request comes from another site (Sec-Fetch-Site: " +
                      std::string(site) + ")");
  const auto origin = trim(r.origin);
  if (!origin.empty() && !same_origin(origin, r.host))
    return refuse(403, "cross_origin_request",
                  "refused: Origin '" + std::string(origin) + "' is not this endpoint's ('" +
                      std::string(r.host) + "')");
  auto media = r.content_type.substr(0, r.content_type.find(';'));
  if (!iequal(trim(media), "application/json"))
    return refuse(415, "json_content_type_required",
                  "state-changing requests need 'Content-Type: application/json'");
  return {};
}

}  // namespace spool::http
