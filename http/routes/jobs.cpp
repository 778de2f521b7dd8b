// /api/v1/jobs: enqueue one or a batch, list, show, cancel, retry.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "http/job_filter.hpp"
#include "http/job_request.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/limits_view.hpp"
#include "jobs/json.hpp"
#include "jobs/progress.hpp"
#include "jobs/validation.hpp"
#include "runtime/nodes.hpp"

// GCC 12 reports Asio's coroutine frame allocator (aligned_alloc with its own operator delete) as
// mismatched in enqueue() below: a false positive of its inliner, not a real mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The same admission as `spool enqueue`: served queue, the kind's payload check where this node runs
// the kind. A kind this node does not run must be run by another live node (the node registry),
// unless the job says "force" or the config allows unknown kinds: else it would only be retried
// until it dead-letters.
asio::awaitable<std::optional<response>> admit(runtime::runtime& rt, const std::vector<jobs::new_job>& batch,
                                               const std::vector<bool>& forced, bool one) {
  std::vector<std::string> served;
  for (auto& info : rt.queue_infos()) served.push_back(info.name);
  std::vector<std::size_t> elsewhere;  // kinds this node does not run
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto no = jobs::admit(batch[i], rt.kinds(), served);
    if (no && no->code == "unknown_kind") {
      if (!forced[i] && !rt.settings().allow_unknown_kinds) elsewhere.push_back(i);
      continue;
    }
    if (no) co_return error(422, no->code, one ? no->message : "job " + std::to_string(i) + ": " + no->message);
  }
  if (elsewhere.empty()) co_return std::nullopt;
  auto list = [](store::store& s) { return s.nodes(jobs::now()); };
  auto got = co_await on_db(rt, std::move(list));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto ttl = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(rt.settings().leader_ttl_s));
  auto kinds = runtime::served_kinds(std::get<0>(got), jobs::now(), ttl);
  // This node serves its own kinds even before its first heartbeat is recorded.
  for (auto& k : rt.kinds().kinds()) kinds.push_back(k);
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  for (auto i : elsewhere) {
    if (std::binary_search(kinds.begin(), kinds.end(), batch[i].kind)) continue;
    std::string names;
    json::array list_out;
    for (auto& k : kinds) {
      names += (names.empty() ? "" : ", ") + k;
      list_out.emplace_back(k);
    }
    const std::string message = "kind '" + batch[i].kind + "' is run by no live node (served: " +
                                (names.empty() ? "none" : names) +
                                "); pass \"force\": true or set allow_unknown_kinds to enqueue it anyway";
    auto r = error(422, "unknown_kind", one ? message : "job " + std::to_string(i) + ": " + message);
    auto body = json::parse(r.body).as_object();
    body["error"].as_object()["served_kinds"] = std::move(list_out);
    r.body = json::serialize(body);
    co_return r;
  }
  co_return std::nullopt;
}

// A duplicate (a unique key held by another job) answers 200 with that job and "duplicate": true;
// only a single enqueue that asked with "on_conflict": "error" gets a 409.
// `order`, for a batch of steps stored in another order (each after those it needs): the position
// in `batch` of each job as the request listed it; the answer keeps the request's order.
asio::awaitable<response> enqueue(runtime::runtime& rt, std::vector<jobs::new_job> batch,
                                  std::vector<bool> forced, bool one, bool error_on_conflict = false,
                                  std::vector<std::size_t> order = {}) {
  if (rt.draining()) co_return error(503, "shutting_down", "the runtime is shutting down");
  if (auto refused = co_await admit(rt, batch, forced, one)) co_return *refused;
  std::vector<jobs::enqueue_result> results;
  std::string failure;
  try {
    results = co_await rt.enqueue(std::move(batch));
  } catch (const std::invalid_argument& e) {
    co_return error(422, "invalid_job", e.what());
  } catch (const store::dependency_error& e) {
    co_return error(422, "invalid_dependency", e.what());
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  if (!order.empty()) {
    std::vector<jobs::enqueue_result> as_asked;
    for (auto k : order) as_asked.push_back(results[k]);
    results = std::move(as_asked);
  }
  if (one && error_on_conflict && results.front().duplicate) {
    auto r = error(409, "unique_key_conflict",
                   "the unique key is held by job " + std::to_string(results.front().id));
    auto body = json::parse(r.body).as_object();
    body["error"].as_object()["job_id"] = results.front().id;
    r.body = json::serialize(body);
    co_return r;
  }
  json::array out;
  for (auto& r : results) {
    auto get = [id = r.id](store::store& s) { return s.get(id, jobs::now()); };
    auto got = co_await on_db(rt, std::move(get));
    if (auto* err = std::get_if<response>(&got)) co_return *err;
    auto& job = std::get<0>(got);
    json::object o = job ? jobs::to_json(*job) : json::object{{"id", r.id}};
    o["duplicate"] = r.duplicate;
    out.push_back(std::move(o));
  }
  const bool created = std::any_of(results.begin(), results.end(), [](auto& r) { return !r.duplicate; });
  const unsigned status = created ? 201 : 200;
  co_return one ? json_response(status, out.front()) : json_response(status, json::object{{"jobs", out}});
}

asio::awaitable<response> post_job(const exchange& x) {
  auto body = parse_body(x.req.body);
  if (auto* bad = std::get_if<bad_input>(&body)) co_return error(bad->status, "bad_request", bad->message);
  bool error_on_conflict = false, force = false;
  auto job = parse_job(std::get<json::value>(body), jobs::now(), &error_on_conflict, &force);
  if (auto* bad = std::get_if<bad_input>(&job))
    co_return error(bad->status, bad->status == 400 ? "bad_request" : "invalid_job", bad->message);
  std::vector<jobs::new_job> one{std::get<jobs::new_job>(std::move(job))};
  co_return co_await enqueue(x.rt, std::move(one), std::vector<bool>(1, force), true, error_on_conflict);
}

asio::awaitable<response> post_batch(const exchange& x) {
  auto body = parse_body(x.req.body);
  if (auto* bad = std::get_if<bad_input>(&body)) co_return error(bad->status, "bad_request", bad->message);
  const auto& v = std::get<json::value>(body);
  if (!v.is_array() || v.get_array().empty())
    co_return error(400, "bad_request", "a batch must be a non-empty JSON array of jobs");
  if (v.get_array().size() > 10000) co_return error(422, "invalid_job", "at most 10000 jobs per batch");
  std::vector<jobs::new_job> batch;
  std::vector<bool> forced;
  std::vector<jobs::step_names> steps;
  const auto now = jobs::now();
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    bool force = false;
    jobs::step_names step;
    auto job = parse_job(v.get_array()[i], now, nullptr, &force, &step);
    forced.push_back(force);
    if (auto* bad = std::get_if<bad_input>(&job))
      co_return error(bad->status, bad->status == 400 ? "bad_request" : "invalid_job",
                      "job " + std::to_string(i) + ": " + bad->message);
    batch.push_back(std::get<jobs::new_job>(std::move(job)));
    steps.push_back(std::move(step));
  }
  const bool named = std::any_of(steps.begin(), steps.end(), [](auto& s) { return !s.needs.empty(); });
  if (!named) co_return co_await enqueue(x.rt, std::move(batch), std::move(forced), false);
  // Steps that need others: stored each after those it needs, in one transaction.
  auto ordered = jobs::order_steps(steps);
  if (auto* why = std::get_if<std::string>(&ordered)) co_return error(422, "invalid_dependency", *why);
  const auto& o = std::get<jobs::step_order>(ordered);
  std::vector<jobs::new_job> stored;
  std::vector<bool> stored_forced;
  std::vector<std::size_t> position(batch.size());
  for (std::size_t k = 0; k < o.order.size(); ++k) {
    const auto i = o.order[k];
    position[i] = k;
    stored.push_back(std::move(batch[i]));
    stored.back().needs = o.needs[i];
    stored_forced.push_back(forced[i]);
  }
  co_return co_await enqueue(x.rt, std::move(stored), std::move(stored_forced), false, false, std::move(position));
}

asio::awaitable<response> get_job(const exchange& x) {
  const auto& raw = x.params[0];
  auto id = to_int(raw);
  if (!id) co_return error(404, "not_found", "no job '" + raw + "'");
  // With the job, the use of the limits that count it, when it waits due: held back or not.
  auto get = [id = *id, all = runtime::limits_of(x.rt.settings())](store::store& s) {
    const auto now = jobs::now();
    std::pair<std::optional<jobs::job>, std::optional<std::string>> out{s.get(id, now), std::nullopt};
    if (out.first) out.second = runtime::held_back(s, *out.first, all, now);
    return out;
  };
  auto got = co_await on_db(x.rt, std::move(get));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  auto& [job, held] = std::get<0>(got);
  if (!job)
    co_return error(404, "not_found",
                    "job " + raw + " not found (it may have been pruned after its retention)");
  auto body = jobs::to_json(*job);
  if (held) body["held_back"] = *held;
  co_return json_response(200, body);
}

asio::awaitable<response> cancel_job(const exchange& x) {
  const auto& raw = x.params[0];
  auto id = to_int(raw);
  if (!id) co_return error(404, "not_found", "no job '" + raw + "'");
  store::cancel_result result{};
  std::string failure;
  try {
    result = co_await x.rt.cancel(*id);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  switch (result) {
    case store::cancel_result::not_found: co_return error(404, "not_found", "no job " + raw);
    case store::cancel_result::already_final:
      co_return error(409, "already_finished", "job " + raw + " already finished");
    case store::cancel_result::cancelled:
      co_return json_response(200, json::object{{"id", *id}, {"result", "cancelled"}});
    case store::cancel_result::requested:
      break;
  }
  co_return json_response(202, json::object{{"id", *id}, {"result", "cancel_requested"}});
}

asio::awaitable<response> retry_job(const exchange& x) {
  const auto& raw = x.params[0];
  auto id = to_int(raw);
  if (!id) co_return error(404, "not_found", "no job '" + raw + "'");
  store::retry_result result{};
  std::string failure;
  try {
    result = co_await x.rt.retry_now(*id);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  if (result == store::retry_result::not_found) co_return error(404, "not_found", "no job " + raw);
  if (result == store::retry_result::not_waiting)
    co_return error(409, "not_waiting", "job " + raw + " is not scheduled or retrying");
  co_return json_response(200, json::object{{"id", *id}, {"result", "due_now"}});
}

// An application's report for the attempt it is running (an HTTP kind's request carries the
// token): {"fraction": 0..1, "note": "..."}. Only the attempt's token will do, not the admin's:
// the report belongs to one attempt, and ends with it.
asio::awaitable<response> post_progress(const exchange& x) {
  const auto& raw = x.params[0];
  auto id = to_int(raw);
  if (!id) co_return error(404, "not_found", "no job '" + raw + "'");
  if (x.req.attempt_token.empty())
    co_return error(403, "forbidden", "progress is reported with the attempt's X-Spool-Attempt-Token header");
  auto body = parse_body(x.req.body);
  if (auto* bad = std::get_if<bad_input>(&body)) co_return error(bad->status, "bad_request", bad->message);
  const auto* o = std::get<json::value>(body).if_object();
  const auto* fraction = o ? o->if_contains("fraction") : nullptr;
  const auto* note = o ? o->if_contains("note") : nullptr;
  bool unknown = false;
  if (o)
    for (auto& [k, _] : *o) unknown |= k != "fraction" && k != "note";
  if (!fraction || !fraction->is_number() || (note && !note->is_string()) || unknown)
    co_return error(400, "bad_request", R"(expected {"fraction": 0..1, "note": "optional text"})");
  const double f = fraction->to_number<double>();
  if (auto why = jobs::check_progress(f)) co_return error(422, "invalid_progress", *why);
  if (!x.rt.report_progress(x.req.attempt_token, *id, f, note ? std::string_view(note->get_string()) : ""))
    co_return error(403, "forbidden", "the token is not that of a running attempt of job " + raw);
  co_return json_response(202, json::object{{"id", *id}, {"accepted", true}});
}

}  // namespace

asio::awaitable<response> list_jobs(runtime::runtime& rt, const target& t, std::optional<jobs::state> forced) {
  store::list_filter f;
  f.state = forced;
  for (auto& [key, value] : t.query) {
    if (key == "limit") {
      auto n = to_int(value);
      if (!n || *n < 1 || *n > 1000) co_return error(422, "invalid_parameter", "limit must be 1..1000");
      f.limit = static_cast<int>(*n);
    } else if (key == "cursor") {
      auto n = to_int(value);
      if (!n || *n < 1) co_return error(422, "invalid_parameter", "cursor must be a job id");
      f.before = *n;
    } else if (auto bad = apply_filter(f, key, value, forced)) {
      co_return *bad;
    }
  }
  auto list = [f](store::store& s) { return s.list(f, jobs::now()); };
  auto got = co_await on_db(rt, std::move(list));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  auto& jobs_found = std::get<0>(got);
  json::array out;
  for (auto& j : jobs_found) out.push_back(jobs::to_json(j));
  json::value next = nullptr;
  if (static_cast<int>(jobs_found.size()) == f.limit) next = jobs_found.back().id;
  co_return json_response(200, json::object{{"jobs", out}, {"next_cursor", next}});
}

void add_job_routes(router& r) {
  r.add("GET", "/api/v1/jobs", [](const exchange& x) { return list_jobs(x.rt, x.where, {}); });
  r.add("POST", "/api/v1/jobs", post_job);
  r.add("POST", "/api/v1/jobs/batch", post_batch);
  r.add("GET", "/api/v1/jobs/{id}", get_job);
  r.add("POST", "/api/v1/jobs/{id}/cancel", cancel_job);
  r.add("POST", "/api/v1/jobs/{id}/retry", retry_job);
  r.add("POST", "/api/v1/jobs/{id}/progress", post_progress);
  add_bulk_routes(r);
}

}  // namespace spool::http
