#include "http/router.hpp"

#include <algorithm>
#include <optional>

namespace spool::http {

namespace {

std::vector<std::string> pattern_of(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto end = path.find('/');
    std::string segment(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
    if (segment.empty()) continue;
    out.push_back(segment.front() == '{' && segment.back() == '}' ? "{}" : std::move(segment));
  }
  return out;
}

std::optional<std::vector<std::string>> params_of(const std::vector<std::string>& pattern,
                                                  const std::vector<std::string>& segments) {
  if (pattern.size() != segments.size()) return std::nullopt;
  std::vector<std::string> params;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{}") params.push_back(segments[i]);
    else if (pattern[i] != segments[i]) return std::nullopt;
  }
  return params;
}

}  // namespace

void router::add(std::string method, std::string_view path, handler run) {
  routes_.push_back({std::move(method), std::string(path), pattern_of(path), std::move(run)});
}

std::variant<router::match, router::wrong_method, router::no_route> router::find(
    std::string_view method, const std::vector<std::string>& segments) const {
  std::size_t fewest = SIZE_MAX;
  for (auto& r : routes_)
    if (auto p = params_of(r.pattern, segments)) fewest = std::min(fewest, p->size());
  if (fewest == SIZE_MAX) return no_route{};
  std::string allow;
  for (auto& r : routes_) {
    auto p = params_of(r.pattern, segments);
    if (!p || p->size() != fewest) continue;
    if (r.method == method) return match{&r.run, std::move(*p)};
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  return wrong_method{allow};
}

}  // namespace spool::http
