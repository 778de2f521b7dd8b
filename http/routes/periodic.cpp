// /api/v1/periodic: the periodic schedules, their next tick and their last job.
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/periodic_view.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> periodic(const exchange& x) {
  auto read = [](store::store& s) { return s.periodic_rows(); };
  auto got = co_await on_db(x.rt, std::move(read));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto& rows = std::get<0>(got);
  co_return json_response(200, runtime::periodic_to_json(x.rt.settings().periodic, rows, jobs::now()));
}

}  // namespace

void add_periodic_routes(router& r) { r.add("GET", "/api/v1/periodic", periodic); }

}  // namespace spool::http
