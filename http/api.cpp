#include "http/api.hpp"

#include <cctype>

#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

api::api(runtime::runtime& rt, api_options options) : rt_(rt), options_(std::move(options)) {
  add_page_routes(routes_);
  add_stats_routes(routes_);
  add_job_routes(routes_);
  add_dlq_routes(routes_);
  add_queue_routes(routes_);
  add_node_routes(routes_);
  add_kind_routes(routes_);
  add_periodic_routes(routes_);
}

bool api::authorized(const request& req) const {
  if (!options_.token) return true;
  // The scheme is case-insensitive (RFC 9110 11.1); the token is not.
  std::string_view auth = req.authorization;
  constexpr std::string_view scheme = "bearer ";
  if (auth.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(auth[i])) != scheme[i]) return false;
  return constant_time_equal(auth.substr(scheme.size()), *options_.token);
}

asio::awaitable<response> api::handle(const request& req) {
  auto t = parse_target(req.target);
  if (!t) co_return error(400, "bad_request", "malformed request target");
  const bool is_api = !t->segments.empty() && t->segments[0] == "api";
  const bool open = !t->segments.empty() && (t->segments[0] == "healthz" || t->segments[0] == "readyz");
  const bool needs_token = is_api || (!open && options_.protect_metrics);
  if (needs_token && !authorized(req)) {
    auto r = error(401, "unauthorized", "a valid 'Authorization: Bearer TOKEN' header is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    co_return r;
  }
  auto found = routes_.find(req.method, t->segments);
  if (std::holds_alternative<router::no_route>(found))
    co_return error(404, "not_found", "no route for " + req.target);
  if (auto* wrong = std::get_if<router::wrong_method>(&found)) {
    auto r = error(405, "method_not_allowed", req.method + " is not allowed here");
    r.headers.emplace_back("Allow", wrong->allow);
    co_return r;
  }
  auto& m = std::get<router::match>(found);
  const exchange x{rt_, req, *t, std::move(m.params)};
  response r;
  std::string failure;
  try {
    r = co_await (*m.run)(x);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(500, "internal", failure);
  co_return r;
}

}  // namespace spool::http
