// /api/v1/nodes: the runtime nodes sharing the database, and which of them leads; for each, its
// heartbeat's age and how many jobs it runs (the dashboard's nodes view).
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/nodes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> nodes(const exchange& x) {
  auto list = [](store::store& s) { return s.nodes(jobs::now()); };
  auto got = co_await on_db(x.rt, std::move(list));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto now = jobs::now();
  const auto ttl = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(x.rt.settings().leader_ttl_s));
  json::array out;
  for (auto& n : std::get<0>(got)) {
    auto o = runtime::to_json(n, now, ttl);
    o["self"] = n.id == x.rt.worker_id();
    out.push_back(std::move(o));
  }
  co_return json_response(200, json::object{{"nodes", out}});
}

}  // namespace

void add_node_routes(router& r) { r.add("GET", "/api/v1/nodes", nodes); }

}  // namespace spool::http
