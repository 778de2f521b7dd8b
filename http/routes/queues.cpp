// /api/v1/queues and /api/v1/limits: counts, concurrency, pause state and queue latency of every queue; pause/resume.
// A pause is stored in the database: every node sharing it stops claiming from the queue within
// a poll interval, and a restart keeps it. Any well-formed queue name may be paused, served or
// not (a queue can be paused before its nodes start); `served_here` says whether this node
// serves it.
#include <map>

#include "config/config.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/limits_view.hpp"
#include "runtime/queue_view.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> queues(const exchange& x) {
  auto read = [](store::store& s) { return std::pair{s.count(jobs::now()), s.paused_queues()}; };
  auto got = co_await on_db(x.rt, std::move(read));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  auto& [counts, paused] = std::get<0>(got);
  std::vector<std::string> here;
  for (auto& info : x.rt.queue_infos()) here.push_back(info.name);
  auto by_name = runtime::queues_to_json(counts, paused, here, jobs::now());
  for (auto& [_, o] : by_name) {
    o["concurrency"] = nullptr;
    o["running_here"] = 0;
    o["served_here"] = false;
  }
  for (auto& info : x.rt.queue_infos()) {
    auto& o = by_name[info.name];
    o["concurrency"] = info.concurrency;
    o["running_here"] = info.running;
    o["served_here"] = true;
  }
  json::array out;
  for (auto& [_, o] : by_name) out.push_back(std::move(o));
  co_return json_response(200, json::object{{"queues", out}});
}

// The concurrency limits this node keeps (its configuration; every node should carry the same),
// each with the jobs it counts now across the cluster.
asio::awaitable<response> limits(const exchange& x) {
  auto read = [all = runtime::limits_of(x.rt.settings())](store::store& s) {
    return s.limit_usage(all, jobs::now());
  };
  auto got = co_await on_db(x.rt, std::move(read));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  co_return json_response(200, json::object{{"limits", runtime::limits_to_json(std::get<0>(got))}});
}

asio::awaitable<response> pause_queue(const exchange& x, bool paused) {
  const auto name = x.params[0];
  if (!config::valid_name(name))
    co_return error(422, "invalid_queue", "queue names are 1-64 characters of A-Z a-z 0-9 _ - . :");
  try {
    co_await x.rt.pause(name, paused);
  } catch (const std::exception& e) {
    co_return error(503, "database_unavailable", e.what());
  }
  bool here = false;
  for (auto& q : x.rt.queues()) here |= q == name;
  co_return json_response(200, json::object{{"name", name}, {"paused", paused}, {"served_here", here}});
}

}  // namespace

void add_queue_routes(router& r) {
  r.add("GET", "/api/v1/queues", queues);
  r.add("GET", "/api/v1/limits", limits);
  r.add("POST", "/api/v1/queues/{name}/pause", [](const exchange& x) { return pause_queue(x, true); });
  r.add("POST", "/api/v1/queues/{name}/resume", [](const exchange& x) { return pause_queue(x, false); });
}

}  // namespace spool::http
