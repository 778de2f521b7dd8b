// /api/v1/dlq: the dead-letter queue: list, requeue (one, or all by filter), purge one.
#include "http/job_request.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> requeue_dead(runtime::runtime& rt, store::dead_filter which) {
  auto requeue = [which](store::store& s) { return s.requeue_dead(which, jobs::now()); };
  auto got = co_await on_db(rt, std::move(requeue));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto n = std::get<0>(got);
  if (which.id && n == 0) co_return error(404, "not_found", "job is not in the dead-letter queue");
  rt.wake();
  co_return json_response(200, json::object{{"requeued", n}});
}

asio::awaitable<response> requeue_filtered(const exchange& x) {
  store::dead_filter which;
  for (auto& [key, value] : x.where.query) {
    if (key == "kind") which.kind = value;
    else if (key == "queue") which.queue = value;
    else co_return error(400, "bad_request", "unknown parameter '" + key + "'");
  }
  if (!x.req.body.empty()) {  // the filter may also come as {"kind": ..., "queue": ...}
    auto body = parse_body(x.req.body);
    if (auto* bad = std::get_if<bad_input>(&body)) co_return error(400, "bad_request", bad->message);
    const auto& v = std::get<json::value>(body);
    if (!v.is_object()) co_return error(400, "bad_request", "the filter must be a JSON object");
    for (auto& [key, val] : v.get_object()) {
      if (!val.is_string()) co_return error(400, "bad_request", "field '" + std::string(key) + "' must be a string");
      if (key == "kind") which.kind = std::string(val.get_string());
      else if (key == "queue") which.queue = std::string(val.get_string());
      else co_return error(400, "bad_request", "unknown field '" + std::string(key) + "'");
    }
  }
  co_return co_await requeue_dead(x.rt, which);
}

asio::awaitable<response> requeue_one(const exchange& x) {
  auto id = to_int(x.params[0]);
  if (!id) co_return error(404, "not_found", "no job '" + x.params[0] + "'");
  store::dead_filter which;
  which.id = *id;
  co_return co_await requeue_dead(x.rt, which);
}

asio::awaitable<response> purge_one(const exchange& x) {
  const auto& raw = x.params[0];
  auto id = to_int(raw);
  if (!id) co_return error(404, "not_found", "no job '" + raw + "'");
  store::dead_filter which;
  which.id = *id;
  auto purge = [which](store::store& s) { return s.purge_dead(which); };
  auto got = co_await on_db(x.rt, std::move(purge));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  if (std::get<0>(got) == 0) co_return error(404, "not_found", "job " + raw + " is not in the dead-letter queue");
  co_return json_response(200, json::object{{"purged", std::get<0>(got)}});
}

}  // namespace

void add_dlq_routes(router& r) {
  r.add("GET", "/api/v1/dlq", [](const exchange& x) { return list_jobs(x.rt, x.where, jobs::state::dead); });
  r.add("POST", "/api/v1/dlq/requeue", requeue_filtered);
  r.add("POST", "/api/v1/dlq/{id}/requeue", requeue_one);
  r.add("DELETE", "/api/v1/dlq/{id}", purge_one);
}

}  // namespace spool::http
