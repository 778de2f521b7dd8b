// /api/v1/kinds: the job kinds this node runs, with the policy each runs under.
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "jobs/json.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> kinds(const exchange& x) {
  co_return json_response(200, json::object{{"kinds", jobs::kinds_to_json(x.rt.kinds(), x.rt.settings())}});
}

}  // namespace

void add_kind_routes(router& r) { r.add("GET", "/api/v1/kinds", kinds); }

}  // namespace spool::http
