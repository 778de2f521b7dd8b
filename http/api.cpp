#include "http/api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <functional>

#include "http/dashboard.hpp"
#include "http/job_request.hpp"
#include "http/metrics_text.hpp"
#include "http/query.hpp"
#include "jobs/json.hpp"
#include "kinds/ai/inference_metrics.hpp"
#include "kinds/ai/result_json.hpp"
#include "persistence/db_executor.hpp"
#include "runtime/nodes.hpp"
#include "kinds/ai/results_store.hpp"
#include "runtime/runtime.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Messages quote what the client sent (a path, an id), which may be any bytes; Boost.JSON writes
// strings as they are, so a byte that is not UTF-8 would make the answer invalid JSON. Each such
// byte becomes U+FFFD. (Found by fuzz/http_request.)
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  for (std::size_t i = 0; i < in.size();) {
    const unsigned char c = byte(i);
    std::size_t n = 0;              // continuation bytes
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else n = SIZE_MAX;
    bool ok = n != SIZE_MAX && i + n < in.size();
    for (std::size_t k = 1; ok && k <= n; ++k) {
      const unsigned char b = byte(i + k);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(in.substr(i, n + 1));
      i += n + 1;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

response error(unsigned status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  r.body = json::serialize(json::object{
      {"error", json::object{{"code", code}, {"message", valid_utf8(message)}}}});
  return r;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

namespace {

using args = std::vector<std::string>;  // the {param} segments of the matched route
using route_fn = std::function<asio::awaitable<response>(runtime::runtime&, const request&,
                                                         const target&, const args&)>;
struct route {
  std::string method;
  std::vector<std::string> pattern;  // "{}" matches any one segment
  route_fn run;
};

response json_response(unsigned status, const json::value& v) {
  response r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

double age_s(jobs::time_point t) { return std::chrono::duration<double>(jobs::now() - t).count(); }

// Runs f(store&) on the db thread; a database failure becomes a 503 answer.
template <class F>
asio::awaitable<std::variant<std::invoke_result_t<F, store::store&>, response>> on_db(
    runtime::runtime& rt, F f) {
  using R = std::invoke_result_t<F, store::store&>;
  std::optional<R> value;
  std::string failure;
  try {
    value.emplace(co_await rt.db().run(std::move(f)));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!value) co_return error(503, "database_unavailable", failure);
  co_return std::move(*value);
}

bool is_queue_served(runtime::runtime& rt, std::string_view q) {
  for (auto& info : rt.queue_infos())
    if (info.name == q) return true;
  return false;
}

asio::awaitable<response> enqueue(runtime::runtime& rt, std::vector<jobs::new_job> batch, bool one) {
  if (rt.draining()) co_return error(503, "shutting_down", "the runtime is shutting down");
  for (auto& j : batch)
    if (!is_queue_served(rt, j.queue))
      co_return error(422, "unknown_queue", "queue '" + j.queue + "' is not served by this runtime");
  std::vector<jobs::enqueue_result> results;
  std::string failure;
  try {
    results = co_await rt.enqueue(std::move(batch));
  } catch (const std::invalid_argument& e) {
    co_return error(422, "invalid_job", e.what());
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  if (one && results.front().duplicate) {
    auto r = error(409, "unique_key_conflict",
                   "the unique key is held by pending job " + std::to_string(results.front().id));
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
  co_return one ? json_response(201, out.front()) : json_response(201, json::object{{"jobs", out}});
}

asio::awaitable<response> post_job(runtime::runtime& rt, const request& req, const target&, const args&) {
  auto body = parse_body(req.body);
  if (auto* bad = std::get_if<bad_input>(&body)) co_return error(bad->status, "bad_request", bad->message);
  auto job = parse_job(std::get<json::value>(body), jobs::now());
  if (auto* bad = std::get_if<bad_input>(&job))
    co_return error(bad->status, bad->status == 400 ? "bad_request" : "invalid_job", bad->message);
  std::vector<jobs::new_job> one{std::get<jobs::new_job>(std::move(job))};
  co_return co_await enqueue(rt, std::move(one), true);
}

asio::awaitable<response> post_batch(runtime::runtime& rt, const request& req, const target&, const args&) {
  auto body = parse_body(req.body);
  if (auto* bad = std::get_if<bad_input>(&body)) co_return error(bad->status, "bad_request", bad->message);
  const auto& v = std::get<json::value>(body);
  if (!v.is_array() || v.get_array().empty())
    co_return error(400, "bad_request", "a batch must be a non-empty JSON array of jobs");
  if (v.get_array().size() > 10000) co_return error(422, "invalid_job", "at most 10000 jobs per batch");
  std::vector<jobs::new_job> batch;
  const auto now = jobs::now();
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    auto job = parse_job(v.get_array()[i], now);
    if (auto* bad = std::get_if<bad_input>(&job))
      co_return error(bad->status, bad->status == 400 ? "bad_request" : "invalid_job",
                      "job " + std::to_string(i) + ": " + bad->message);
    batch.push_back(std::get<jobs::new_job>(std::move(job)));
  }
  co_return co_await enqueue(rt, std::move(batch), false);
}

asio::awaitable<response> list_jobs(runtime::runtime& rt, const target& t, std::optional<jobs::state> forced) {
  store::list_filter f;
  f.state = forced;
  for (auto& [key, value] : t.query) {
    if (key == "state") {
      f.state = jobs::parse_state(value);
      if (!f.state) co_return error(422, "invalid_parameter", "unknown state '" + value + "'");
    } else if (key == "kind") {
      f.kind = value;
    } else if (key == "queue") {
      f.queue = value;
    } else if (key == "limit") {
      auto n = to_int(value);
      if (!n || *n < 1 || *n > 1000) co_return error(422, "invalid_parameter", "limit must be 1..1000");
      f.limit = static_cast<int>(*n);
    } else if (key == "cursor") {
      auto n = to_int(value);
      if (!n || *n < 1) co_return error(422, "invalid_parameter", "cursor must be a job id");
      f.before = *n;
    } else {
      co_return error(400, "bad_request", "unknown parameter '" + key + "'");
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

asio::awaitable<response> get_job(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto id = to_int(a[0]);
  if (!id) co_return error(404, "not_found", "no job '" + a[0] + "'");
  auto get = [id = *id](store::store& s) { return s.get(id, jobs::now()); };
  auto got = co_await on_db(rt, std::move(get));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  if (!std::get<0>(got)) co_return error(404, "not_found", "no job " + a[0]);
  co_return json_response(200, jobs::to_json(*std::get<0>(got)));
}

asio::awaitable<response> cancel_job(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto id = to_int(a[0]);
  if (!id) co_return error(404, "not_found", "no job '" + a[0] + "'");
  store::cancel_result result{};
  std::string failure;
  try {
    result = co_await rt.cancel(*id);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  switch (result) {
    case store::cancel_result::not_found: co_return error(404, "not_found", "no job " + a[0]);
    case store::cancel_result::already_final:
      co_return error(409, "already_finished", "job " + a[0] + " already finished");
    case store::cancel_result::cancelled:
      co_return json_response(200, json::object{{"id", *id}, {"result", "cancelled"}});
    case store::cancel_result::requested:
      break;
  }
  co_return json_response(202, json::object{{"id", *id}, {"result", "cancel_requested"}});
}

asio::awaitable<response> retry_job(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto id = to_int(a[0]);
  if (!id) co_return error(404, "not_found", "no job '" + a[0] + "'");
  store::retry_result result{};
  std::string failure;
  try {
    result = co_await rt.retry_now(*id);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(503, "database_unavailable", failure);
  if (result == store::retry_result::not_found) co_return error(404, "not_found", "no job " + a[0]);
  if (result == store::retry_result::not_waiting)
    co_return error(409, "not_waiting", "job " + a[0] + " is not scheduled or retrying");
  co_return json_response(200, json::object{{"id", *id}, {"result", "due_now"}});
}

asio::awaitable<response> requeue_dead(runtime::runtime& rt, store::dead_filter which) {
  auto requeue = [which](store::store& s) { return s.requeue_dead(which, jobs::now()); };
  auto got = co_await on_db(rt, std::move(requeue));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto n = std::get<0>(got);
  if (which.id && n == 0) co_return error(404, "not_found", "job is not in the dead-letter queue");
  rt.wake();
  co_return json_response(200, json::object{{"requeued", n}});
}

asio::awaitable<response> requeue_dead_filtered(runtime::runtime& rt, const request& req, const target& t,
                                                const args&) {
  store::dead_filter which;
  for (auto& [key, value] : t.query) {
    if (key == "kind") which.kind = value;
    else if (key == "queue") which.queue = value;
    else co_return error(400, "bad_request", "unknown parameter '" + key + "'");
  }
  if (!req.body.empty()) {  // the filter may also come as {"kind": ..., "queue": ...}
    auto body = parse_body(req.body);
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
  co_return co_await requeue_dead(rt, which);
}

asio::awaitable<response> requeue_one(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto id = to_int(a[0]);
  if (!id) co_return error(404, "not_found", "no job '" + a[0] + "'");
  store::dead_filter which;
  which.id = *id;
  co_return co_await requeue_dead(rt, which);
}

asio::awaitable<response> purge_one(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto id = to_int(a[0]);
  if (!id) co_return error(404, "not_found", "no job '" + a[0] + "'");
  store::dead_filter which;
  which.id = *id;
  auto purge = [which](store::store& s) { return s.purge_dead(which); };
  auto got = co_await on_db(rt, std::move(purge));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  if (std::get<0>(got) == 0) co_return error(404, "not_found", "job " + a[0] + " is not in the dead-letter queue");
  co_return json_response(200, json::object{{"purged", std::get<0>(got)}});
}

asio::awaitable<response> queues(runtime::runtime& rt, const request&, const target&, const args&) {
  auto count = [](store::store& s) { return s.count(jobs::now()); };
  auto got = co_await on_db(rt, std::move(count));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  auto& counts = std::get<0>(got);
  std::map<std::string, json::object> by_name;
  for (auto& [q, states] : counts.queues) {
    json::object c;
    for (auto& [st, n] : states) c[st] = n;
    by_name[q] = json::object{{"name", q}, {"counts", c}, {"concurrency", nullptr},
                              {"paused", false}, {"running_here", 0}, {"served_here", false}};
  }
  for (auto& info : rt.queue_infos()) {
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

asio::awaitable<response> nodes(runtime::runtime& rt, const request&, const target&, const args&) {
  auto list = [](store::store& s) { return s.nodes(jobs::now()); };
  auto got = co_await on_db(rt, std::move(list));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  const auto now = jobs::now();
  const auto ttl = std::chrono::duration_cast<jobs::duration>(
      std::chrono::duration<double>(rt.settings().leader_ttl_s));
  json::array out;
  for (auto& n : std::get<0>(got)) {
    auto o = runtime::to_json(n, now, ttl);
    o["self"] = n.id == rt.worker_id();
    out.push_back(std::move(o));
  }
  co_return json_response(200, json::object{{"nodes", out}});
}

asio::awaitable<response> pause_queue(runtime::runtime& rt, const std::string& name, bool paused) {
  if (!rt.pause(name, paused))
    co_return error(422, "unknown_queue", "queue '" + name + "' is not served by this runtime");
  co_return json_response(200, json::object{{"name", name}, {"paused", paused}});
}

asio::awaitable<response> stats(runtime::runtime& rt, const request&, const target&, const args&) {
  auto count = [](store::store& s) { return s.count(jobs::now()); };
  auto got = co_await on_db(rt, std::move(count));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  json::object totals;
  for (auto& [st, n] : std::get<0>(got).states) totals[st] = n;
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(jobs::now().time_since_epoch()).count();
  json::object windows;
  for (auto [label, span] : {std::pair{"1m", 60}, std::pair{"5m", 300}, std::pair{"15m", 900}}) {
    auto t = rt.stats().rates.last(now_s, span);
    windows[label] = json::object{
        {"finished", t.finished},
        {"failed", t.failed},
        {"throughput_per_s", static_cast<double>(t.finished) / span},
        {"failure_rate", t.finished ? static_cast<double>(t.failed) / t.finished : 0.0}};
  }
  co_return json_response(200, json::object{{"totals", totals}, {"windows", windows}});
}

asio::awaitable<response> ready(runtime::runtime& rt, const request&, const target&, const args&) {
  if (rt.draining()) co_return error(503, "shutting_down", "the runtime is draining");
  auto ping = [](store::store& s) {
    s.ping();
    return true;
  };
  auto got = co_await on_db(rt, std::move(ping));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  co_return json_response(200, json::object{{"status", "ready"}});
}

asio::awaitable<response> metrics_page(runtime::runtime& rt, const request&, const target&, const args&) {
  auto count = [](store::store& s) { return s.count(jobs::now()); };
  auto got = co_await on_db(rt, std::move(count));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = render_metrics(rt, std::get<0>(got));
  kinds::ai::render_inference_metrics(r.body);
  co_return r;
}

// The AI kinds' results live in the jobs' database; a short-lived connection opened on the db
// thread reads them there, so no io_context thread blocks and the API needs nothing but `rt`.
asio::awaitable<response> get_activity_result(runtime::runtime& rt, const request&, const target&,
                                              const args& a) {
  auto find = [url = rt.settings().db, id = a[0]](store::store&) {
    return kinds::ai::results_store::open(url)->find_result(id);
  };
  auto got = co_await on_db(rt, std::move(find));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  if (!std::get<0>(got)) co_return error(404, "not_found", "no result for activity '" + a[0] + "'");
  co_return json_response(200, kinds::ai::to_json(*std::get<0>(got)));
}

asio::awaitable<response> get_profile(runtime::runtime& rt, const request&, const target&, const args& a) {
  auto find = [url = rt.settings().db, user = a[0]](store::store&) {
    return kinds::ai::results_store::open(url)->find_profile(user);
  };
  auto got = co_await on_db(rt, std::move(find));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  if (!std::get<0>(got)) co_return error(404, "not_found", "no profile for user '" + a[0] + "'");
  co_return json_response(200, kinds::ai::to_json(*std::get<0>(got)));
}

const std::vector<route>& routes() {
  auto fixed = [](response r) {
    return [r](runtime::runtime&, const request&, const target&, const args&) -> asio::awaitable<response> {
      co_return r;
    };
  };
  response health;
  health.body = R"({"status":"alive"})";
  response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = std::string(dashboard_html());
  static const std::vector<route> table{
      {"GET", {"healthz"}, fixed(health)},
      {"GET", {"readyz"}, ready},
      {"GET", {"metrics"}, metrics_page},
      {"GET", {}, fixed(page)},
      {"GET", {"api", "v1", "jobs"},
       [](runtime::runtime& rt, const request&, const target& t, const args&) { return list_jobs(rt, t, {}); }},
      {"POST", {"api", "v1", "jobs"}, post_job},
      {"POST", {"api", "v1", "jobs", "batch"}, post_batch},
      {"GET", {"api", "v1", "jobs", "{}"}, get_job},
      {"POST", {"api", "v1", "jobs", "{}", "cancel"}, cancel_job},
      {"POST", {"api", "v1", "jobs", "{}", "retry"}, retry_job},
      {"GET", {"api", "v1", "dlq"},
       [](runtime::runtime& rt, const request&, const target& t, const args&) {
         return list_jobs(rt, t, jobs::state::dead);
       }},
      {"POST", {"api", "v1", "dlq", "requeue"}, requeue_dead_filtered},
      {"POST", {"api", "v1", "dlq", "{}", "requeue"}, requeue_one},
      {"DELETE", {"api", "v1", "dlq", "{}"}, purge_one},
      {"GET", {"api", "v1", "queues"}, queues},
      {"POST", {"api", "v1", "queues", "{}", "pause"},
       [](runtime::runtime& rt, const request&, const target&, const args& a) { return pause_queue(rt, a[0], true); }},
      {"POST", {"api", "v1", "queues", "{}", "resume"},
       [](runtime::runtime& rt, const request&, const target&, const args& a) { return pause_queue(rt, a[0], false); }},
      {"GET", {"api", "v1", "stats"}, stats},
      {"GET", {"api", "v1", "nodes"}, nodes},
      {"GET", {"api", "v1", "activities", "{}", "result"}, get_activity_result},
      {"GET", {"api", "v1", "profiles", "{}"}, get_profile},
  };
  return table;
}

std::optional<args> match(const std::vector<std::string>& pattern, const std::vector<std::string>& segs) {
  if (pattern.size() != segs.size()) return std::nullopt;
  args a;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{}") a.push_back(segs[i]);
    else if (pattern[i] != segs[i]) return std::nullopt;
  }
  // "/api/v1/jobs/batch" is its own route, not a job id.
  return a;
}

}  // namespace

api::api(runtime::runtime& rt, api_options options) : rt_(rt), options_(std::move(options)) {}

bool api::authorized(const request& req) const {
  if (!options_.token) return true;
  // The scheme is case-insensitive (RFC 9110 11.1); the token is not.
  std::string_view auth = req.authorization;
  constexpr std::string_view scheme = "bearer ";
  if (auth.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(auth[i])) != scheme[i]) return false;
  return constant_time_equal(auth.substr(scheme.size()), *options_.token);
}

asio::awaitable<response> api::handle(const request& req) {
  auto t = parse_target(req.target);
  if (!t) co_return error(400, "bad_request", "malformed request target");
  const bool is_api = !t->segments.empty() && t->segments[0] == "api";
  const bool open = !t->segments.empty() && (t->segments[0] == "healthz" || t->segments[0] == "readyz");
  const bool needs_token = is_api || (!open && options_.protect_metrics);
  if (needs_token && !authorized(req)) {
    auto r = error(401, "unauthorized", "a valid 'Authorization: Bearer TOKEN' header is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    co_return r;
  }
  // Of the routes matching the path, the ones with the fewest parameters win: a literal
  // segment beats a parameter ("jobs/batch" is not job "batch").
  std::size_t fewest = SIZE_MAX;
  for (auto& r : routes())
    if (auto a = match(r.pattern, t->segments)) fewest = std::min(fewest, a->size());
  std::string allow;
  const route* found = nullptr;
  args found_args;
  for (auto& r : routes()) {
    auto a = match(r.pattern, t->segments);
    if (!a || a->size() != fewest) continue;
    if (r.method == req.method && !found) {
      found = &r;
      found_args = std::move(*a);
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (!found) {
    if (allow.empty()) co_return error(404, "not_found", "no route for " + req.target);
    auto r = error(405, "method_not_allowed", req.method + " is not allowed here");
    r.headers.emplace_back("Allow", allow);
    co_return r;
  }
  response r;
  std::string failure;
  try {
    r = co_await found->run(rt_, req, *t, found_args);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return error(500, "internal", failure);
  co_return r;
}

}  // namespace spool::http
