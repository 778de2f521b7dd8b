// /api/v1/dlq: the dead-letter queue: list, requeue (one, or all by filter), purge (one, or by
// filter as `spool dlq purge` does).
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

// kind and queue from the query or a JSON body; `all` (true) says that no filter is meant.
std::variant<store::dead_filter, response> dead_filter_of(const exchange& x, bool* all) {
  store::dead_filter which;
  for (auto& [key, value] : x.where.query) {
    if (key == "kind") which.kind = value;
    else if (key == "queue") which.queue = value;
    else if (key == "all" && all && (value == "true" || value == "false")) *all = value == "true";
    else return error(400, "bad_request", "unknown parameter '" + key + "'");
  }
  if (!x.req.body.empty()) {  // the filter may also come as {"kind": ..., "queue": ...}
    auto body = parse_body(x.req.body);
    if (auto* bad = std::get_if<bad_input>(&body)) return error(400, "bad_request", bad->message);
    const auto& v = std::get<json::value>(body);
    if (!v.is_object()) return error(400, "bad_request", "the filter must be a JSON object");
    for (auto& [key, val] : v.get_object()) {
      if (key == "all" && all && val.is_bool()) {
        *all = val.get_bool();
        continue;
      }
      if (!val.is_string()) return error(400, "bad_request", "field '" + std::string(key) + "' must be a string");
      if (key == "kind") which.kind = std::string(val.get_string());
      else if (key == "queue") which.queue = std::string(val.get_string());
      else return error(400, "bad_request", "unknown field '" + std::string(key) + "'");
    }
  }
  return which;
}

asio::awaitable<response> requeue_filtered(const exchange& x) {
  auto which = dead_filter_of(x, nullptr);
  if (auto* bad = std::get_if<response>(&which)) co_return *bad;
  co_return co_await requeue_dead(x.rt, std::get<store::dead_filter>(which));
}

// As `spool dlq purge --all`: without a kind or queue, "all" must say so.
asio::awaitable<response> purge_filtered(const exchange& x) {
  bool all = false;
  auto got_filter = dead_filter_of(x, &all);
  if (auto* bad = std::get_if<response>(&got_filter)) co_return *bad;
  auto which = std::get<store::dead_filter>(got_filter);
  if (!which.kind && !which.queue && !all)
    co_return error(422, "filter_required", "give kind, queue, or all=true to purge every dead-lettered job");
  auto purge = [which](store::store& s) { return s.purge_dead(which); };
  auto got = co_await on_db(x.rt, std::move(purge));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  co_return json_response(200, json::object{{"purged", std::get<0>(got)}});
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
  r.add("DELETE", "/api/v1/dlq", purge_filtered);
  r.add("DELETE", "/api/v1/dlq/{id}", purge_one);
}

}  // namespace spool::http
