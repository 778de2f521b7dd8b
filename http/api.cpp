#include "http/api.hpp"

#include <boost/json/parse.hpp>
#include <cctype>

#include "http/csrf.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

api::api(runtime::runtime& rt, api_options options)
    : rt_(rt), options_(std::move(options)), sessions_(std::make_unique<session_table>(options_.session_ttl)) {
  routes_.add("POST", "/api/v1/session", [this](const exchange& x) { return sign_in(x); });
  routes_.add("DELETE", "/api/v1/session",
              [this](const exchange& x) -> asio::awaitable<response> { co_return sign_out(x); });
  add_page_routes(routes_);
  add_stats_routes(routes_);
  add_job_routes(routes_);
  add_dlq_routes(routes_);
  add_queue_routes(routes_);
  add_node_routes(routes_);
  add_kind_routes(routes_);
  add_periodic_routes(routes_);
}

bool api::bearer_ok(const request& req) const {
  if (!options_.token) return true;
  // The scheme is case-insensitive (RFC 9110 11.1); the token is not.
  std::string_view auth = req.authorization;
  constexpr std::string_view scheme = "bearer ";
  if (auth.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(auth[i])) != scheme[i]) return false;
  return constant_time_equal(auth.substr(scheme.size()), *options_.token);
}

bool api::session_ok(const request& req) const {
  auto id = cookie_value(req.cookie, session_cookie);
  return id && sessions_->valid(*id, session_table::clock::now());
}

asio::awaitable<response> api::sign_in(const exchange& x) {
  if (!options_.token)
    co_return error(409, "no_token_configured", "the endpoint has no admin token: there is nothing to sign in to");
  boost::system::error_code ec;
  auto body = json::parse(x.req.body, ec);
  const auto* given = !ec && body.is_object() ? body.get_object().if_contains("token") : nullptr;
  if (!given || !given->is_string())
    co_return error(400, "invalid_request", "expected {\"token\": \"the admin token\"}");
  if (!constant_time_equal(given->get_string(), *options_.token))
    co_return error(401, "unauthorized", "wrong token");
  const auto id = sessions_->open(session_table::clock::now());
  auto r = json_response(200, json::object{{"signed_in", true}, {"expires_in_s", sessions_->ttl().count()}});
  std::string cookie(session_cookie);
  cookie.append("=").append(id).append("; HttpOnly; SameSite=Strict; Path=/; Max-Age=");
  cookie.append(std::to_string(sessions_->ttl().count()));
  r.headers.emplace_back("Set-Cookie", std::move(cookie));
  co_return r;
}

response api::sign_out(const exchange& x) {
  if (auto id = cookie_value(x.req.cookie, session_cookie)) sessions_->close(*id);
  auto r = json_response(200, json::object{{"signed_in", false}});
  // Written out: GCC 12 at -O2 misreports concatenating onto the short cookie name (-Warray-bounds).
  static_assert(session_cookie == "spool_session");
  r.headers.emplace_back("Set-Cookie", "spool_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  return r;
}

asio::awaitable<response> api::handle(const request& req) {
  // First, token or not: a browser carries cookies (and, on loopback without a token, there is no
  // credential at all), so a forged cross-site request must not reach a handler.
  const auto csrf = decide_csrf({req.method, req.content_type, req.origin, req.sec_fetch_site, req.host});
  if (!csrf.allowed) co_return error(csrf.status, csrf.code, csrf.reason);
  auto t = parse_target(req.target);
  if (!t) co_return error(400, "bad_request", "malformed request target");
  const auto& seg = t->segments;
  const bool is_api = !seg.empty() && seg[0] == "api";
  const bool open = !seg.empty() && (seg[0] == "healthz" || seg[0] == "readyz");
  // The page holds no data; the sign-in checks the token it is given.
  const bool page = seg.empty();
  const bool session_route = seg.size() == 3 && is_api && seg[1] == "v1" && seg[2] == "session";
  // An application called by an HTTP kind reports its job's progress with the attempt's own
  // token instead of the admin token; the route accepts nothing else from it (routes/jobs.cpp).
  const bool attempt_route = !req.attempt_token.empty() && req.method == "POST" && seg.size() == 5 &&
                             is_api && seg[1] == "v1" && seg[2] == "jobs" && seg[4] == "progress";
  bool allowed = true;
  if (open || page || session_route || attempt_route) allowed = true;
  else if (is_api) allowed = bearer_ok(req) || (options_.token && session_ok(req));
  else if (options_.protect_metrics) allowed = bearer_ok(req);  // /metrics: for scrapers, not browsers
  if (!allowed) {
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
