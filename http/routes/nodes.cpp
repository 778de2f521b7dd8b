// /api/v1/nodes: the runtime nodes sharing the database, and which of them leads; for each, its
// heartbeat's age and how many jobs it runs (the dashboard's nodes view).
#include <map>

#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/nodes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Running jobs by the node whose lease holds them, read a page at a time (keyset), at most
// `max_read` of them: a count for the operator, not an inventory.
std::map<std::string, std::int64_t> running_by_node(store::store& s) {
  constexpr std::size_t max_read = 10000;
  std::map<std::string, std::int64_t> out;
  store::list_filter f;
  f.state = jobs::state::running;
  f.limit = 1000;
  for (std::size_t read = 0; read < max_read;) {
    auto page = s.list(f, jobs::now());
    for (auto& j : page) ++out[j.worker];
    read += page.size();
    if (static_cast<int>(page.size()) < f.limit) break;
    f.before = page.back().id;
  }
  return out;
}

struct node_view {
  std::vector<store::node_info> nodes;
  std::map<std::string, std::int64_t> running;
};

asio::awaitable<response> nodes(const exchange& x) {
  auto read = [](store::store& s) { return node_view{s.nodes(jobs::now()), running_by_node(s)}; };
  auto got = co_await on_db(x.rt, std::move(read));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto& view = std::get<0>(got);
  const auto now = jobs::now();
  const auto ttl = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(x.rt.settings().leader_ttl_s));
  json::array out;
  for (auto& n : view.nodes) {
    auto o = runtime::to_json(n, now, ttl);
    o["self"] = n.id == x.rt.worker_id();
    o["heartbeat_age_s"] = std::chrono::duration<double>(now - n.heartbeat_at).count();
    auto it = view.running.find(n.id);
    o["running_jobs"] = it == view.running.end() ? 0 : it->second;
    out.push_back(std::move(o));
  }
  co_return json_response(200, json::object{{"nodes", out}});
}

}  // namespace

void add_node_routes(router& r) { r.add("GET", "/api/v1/nodes", nodes); }

}  // namespace spool::http
