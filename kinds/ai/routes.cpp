#include "kinds/ai/routes.hpp"

#include "http/reply.hpp"
#include "kinds/ai/result_json.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;

namespace {

// Looks `key` up with find(results_store&, key) on the kinds' own db thread: 200 with the row as
// JSON, 404 saying what is missing, or 503 when the database fails.
template <class Find>
asio::awaitable<http::response> lookup(services& svc, std::string key, Find find,
                                       std::string missing) {
  std::string failure;
  try {
    auto call = [find, key](results_store& r) { return find(r, key); };
    auto found = co_await svc.results->run(std::move(call));
    if (!found) co_return http::error(404, "not_found", missing + " '" + key + "'");
    co_return http::json_response(200, to_json(*found));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  co_return http::error(503, "database_unavailable", failure);
}

}  // namespace

void add_routes(http::router& r, services& svc) {
  r.add("GET", "/api/v1/activities/{activity_id}/result", [&svc](const http::exchange& x) {
    return lookup(
        svc, x.params[0], [](results_store& rs, const std::string& id) { return rs.find_result(id); },
        "no result for activity");
  });
  r.add("GET", "/api/v1/profiles/{user_id}", [&svc](const http::exchange& x) {
    return lookup(
        svc, x.params[0], [](results_store& rs, const std::string& user) { return rs.find_profile(user); },
        "no profile for user");
  });
}

}  // namespace spool::kinds::ai
