// /api/v1/queues: counts, concurrency, pause state and queue latency of every queue; pause/resume.
#include <map>

#include "http/reply.hpp"
#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

double age_s(jobs::time_point t) { return std::chrono::duration<double>(jobs::now() - t).count(); }

asio::awaitable<response> queues(const exchange& x) {
  auto count = [](store::store& s) { return s.count(jobs::now()); };
  auto got = co_await on_db(x.rt, std::move(count));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  auto& counts = std::get<0>(got);
  std::map<std::string, json::object> by_name;
  for (auto& [q, states] : counts.queues) {
    json::object c;
    for (auto& [st, n] : states) c[st] = n;
    by_name[q] = json::object{{"name", q}, {"counts", c}, {"concurrency", nullptr},
                              {"paused", false}, {"running_here", 0}, {"served_here", false}};
  }
  for (auto& info : x.rt.queue_infos()) {
    auto& o = by_name[info.name];
    if (o.empty()) {
      json::object zero;
      for (auto& [st, _] : counts.states) zero[st] = 0;
      o = json::object{{"name", info.name}, {"counts", zero}};
    }
    o["concurrency"] = info.concurrency;
    o["paused"] = info.paused;
    o["running_here"] = info.running;
    o["served_here"] = true;
  }
  json::array out;
  for (auto& [name, o] : by_name) {
    auto it = counts.oldest_available.find(name);
    o["oldest_available_age_s"] = it == counts.oldest_available.end() ? json::value(nullptr)
                                                                      : json::value(age_s(it->second));
    out.push_back(std::move(o));
  }
  co_return json_response(200, json::object{{"queues", out}});
}

asio::awaitable<response> pause_queue(const exchange& x, bool paused) {
  const auto& name = x.params[0];
  if (!x.rt.pause(name, paused))
    co_return error(422, "unknown_queue", "queue '" + name + "' is not served by this runtime");
  co_return json_response(200, json::object{{"name", name}, {"paused", paused}});
}

}  // namespace

void add_queue_routes(router& r) {
  r.add("GET", "/api/v1/queues", queues);
  r.add("POST", "/api/v1/queues/{name}/pause", [](const exchange& x) { return pause_queue(x, true); });
  r.add("POST", "/api/v1/queues/{name}/resume", [](const exchange& x) { return pause_queue(x, false); });
}

}  // namespace spool::http
