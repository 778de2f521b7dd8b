#define BOOST_TEST_MODULE http_openapi
// The admin API's OpenAPI document (http/openapi.json) against the API itself, as `spool run`
// registers it (the runtime's routes and the AI kinds' routes): every registered route is
// documented and every documented operation is registered; the served document is the file; real
// answers have a documented status and match its schema (no unknown field, no wrong type); and the
// checker refuses a wrong answer. tests/openapi validates the document itself.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "http/openapi.hpp"
#include "kinds/ai/kinds.hpp"
#include "kinds/ai/routes.hpp"
#include "tests/http/api_harness.hpp"
#include "tests/http/live_server.hpp"
#include "tests/kinds/ai_harness.hpp"

using namespace spool;
using namespace spool::test;

namespace {

const json::value& document() {
  static const json::value doc = json::parse(http::openapi_json());
  return doc;
}

// The part of JSON Schema the document uses, checked strictly: an object schema with properties
// must say additionalProperties (so unknown fields are found), and a keyword the checker does not
// know is an error rather than silently passing.
class schema_checker {
 public:
  explicit schema_checker(const json::value& doc) : doc_(doc) {}

  std::vector<std::string> check(const json::value& schema, const json::value& v) const {
    std::vector<std::string> errors;
    check(schema, v, "$", errors);
    return errors;
  }

  // A "$ref": "#/components/..." followed; other values as they are.
  const json::value& resolve(const json::value& v) const {
    const auto* ref = v.is_object() ? v.get_object().if_contains("$ref") : nullptr;
    if (!ref) return v;
    const std::string_view target = ref->as_string();
    if (!target.starts_with("#/")) throw std::runtime_error("not a local $ref: " + std::string(target));
    return doc_.at_pointer(target.substr(1));
  }

 private:
  static bool is_type(const json::value& v, std::string_view t) {
    if (t == "integer")
      return v.is_int64() || v.is_uint64() || (v.is_double() && v.get_double() == std::trunc(v.get_double()));
    if (t == "number") return v.is_number();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_bool();
    if (t == "null") return v.is_null();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    throw std::runtime_error("unknown type in the schema: " + std::string(t));
  }

  void check(const json::value& schema_in, const json::value& v, const std::string& at,
             std::vector<std::string>& errors) const {
    const json::value* schema = &schema_in;
    try {
      schema = &resolve(schema_in);
    } catch (const std::exception& e) {
      errors.push_back(at + ": bad $ref: " + e.what());
      return;
    }
    const auto& s = schema->as_object();
    static const std::set<std::string_view> known{"type",     "enum",    "const",    "properties", "required",
                                                  "additionalProperties", "items", "oneOf", "minimum",
                                                  "maximum",  "minItems", "maxItems", "description", "format"};
    for (auto& [k, _] : s)
      if (!known.contains(k)) errors.push_back(at + ": the checker does not know keyword '" + std::string(k) + "'");
    if (auto* t = s.if_contains("type")) {
      bool any = false;
      if (t->is_string()) any = is_type(v, t->get_string());
      for (auto& one : t->is_array() ? t->get_array() : json::array{}) any = any || is_type(v, one.as_string());
      if (!any) {
        errors.push_back(at + ": " + json::serialize(v) + " is not of type " + json::serialize(*t));
        return;
      }
    }
    if (auto* e = s.if_contains("enum"); e && std::find(e->as_array().begin(), e->as_array().end(), v) == e->as_array().end())
      errors.push_back(at + ": " + json::serialize(v) + " is not one of " + json::serialize(*e));
    if (auto* c = s.if_contains("const"); c && *c != v)
      errors.push_back(at + ": " + json::serialize(v) + " is not " + json::serialize(*c));
    if (v.is_number()) {
      const auto n = v.to_number<double>();
      if (auto* m = s.if_contains("minimum"); m && n < m->to_number<double>()) errors.push_back(at + ": below minimum");
      if (auto* m = s.if_contains("maximum"); m && n > m->to_number<double>()) errors.push_back(at + ": above maximum");
    }
    if (auto* f = s.if_contains("format"); f && f->as_string() == "date-time" && v.is_string() && !jobs::parse_rfc3339(v.get_string()))
      errors.push_back(at + ": '" + std::string(v.get_string()) + "' is not an RFC 3339 time");
    if (v.is_object()) check_object(s, v.get_object(), at, errors);
    if (v.is_array()) {
      const auto& a = v.get_array();
      if (auto* m = s.if_contains("minItems"); m && a.size() < m->to_number<std::size_t>()) errors.push_back(at + ": too few items");
      if (auto* m = s.if_contains("maxItems"); m && a.size() > m->to_number<std::size_t>()) errors.push_back(at + ": too many items");
      if (auto* items = s.if_contains("items"))
        for (std::size_t i = 0; i < a.size(); ++i) check(*items, a[i], at + "[" + std::to_string(i) + "]", errors);
    }
    if (auto* one_of = s.if_contains("oneOf")) {
      std::size_t matched = 0;
      std::string why;
      for (auto& branch : one_of->as_array()) {
        std::vector<std::string> branch_errors;
        check(branch, v, at, branch_errors);
        if (branch_errors.empty()) ++matched;
        else why += " [" + branch_errors.front() + (branch_errors.size() > 1 ? ", ..." : "") + "]";
      }
      if (matched != 1) errors.push_back(at + ": matches " + std::to_string(matched) + " of oneOf, not 1:" + why);
    }
  }

  void check_object(const json::object& s, const json::object& o, const std::string& at,
                    std::vector<std::string>& errors) const {
    const auto* props = s.if_contains("properties");
    const auto* extra = s.if_contains("additionalProperties");
    if (props && !extra) errors.push_back(at + ": the schema does not say additionalProperties");
    if (auto* required = s.if_contains("required"))
      for (auto& name : required->as_array())
        if (!o.contains(name.as_string())) errors.push_back(at + ": field '" + std::string(name.as_string()) + "' is missing");
    for (auto& [k, x] : o) {
      const auto where = at + "." + std::string(k);
      if (auto* p = props ? props->as_object().if_contains(k) : nullptr) check(*p, x, where, errors);
      else if (extra && extra->is_bool() && !extra->get_bool()) errors.push_back(where + ": unknown field");
      else if (extra && extra->is_object()) check(*extra, x, where, errors);
    }
  }

  const json::value& doc_;
};

std::vector<std::string> segments_of(std::string_view path) {
  std::vector<std::string> out;
  std::stringstream in{std::string(path)};
  for (std::string seg; std::getline(in, seg, '/');)
    if (!seg.empty()) out.push_back(seg);
  return out;
}

// The documented path a request's path falls under; as in the router, a literal segment beats a
// parameter. "" when none.
std::string documented_path(std::string_view path) {
  const auto want = segments_of(path);
  std::string best;
  std::size_t fewest = SIZE_MAX;
  for (auto& [tmpl, _] : document().at("paths").as_object()) {
    const auto have = segments_of(tmpl);
    if (have.size() != want.size()) continue;
    std::size_t params = 0;
    bool fits = true;
    for (std::size_t i = 0; i < have.size() && fits; ++i) {
      if (have[i].starts_with('{')) ++params;
      else fits = have[i] == want[i];
    }
    if (fits && params < fewest) fewest = params, best = tmpl;
  }
  return best;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What is wrong with `r` as the answer to `method target` by the document: an undocumented route
// or status, another media type, or a body that does not match the status's schema.
std::vector<std::string> check_answer(const std::string& method, const std::string& target,
                                      const http::response& r, std::string* operation = nullptr) {
  const auto path = documented_path(target.substr(0, target.find('?')));
  const auto& paths = document().at("paths").as_object();
  const auto* op = path.empty() ? nullptr : paths.at(path).as_object().if_contains(lower(method));
  if (!op) return {method + " " + target + " is not documented"};
  if (operation) *operation = method + " " + path;
  const auto* declared = op->at("responses").as_object().if_contains(std::to_string(r.status));
  if (!declared) return {"status " + std::to_string(r.status) + " is not documented for " + method + " " + path};
  const schema_checker checker(document());
  const auto& content = checker.resolve(*declared).at("content").as_object();
  const auto media = r.content_type.substr(0, r.content_type.find(';'));
  const auto* media_doc = content.if_contains(media);
  if (!media_doc) return {"content type " + r.content_type + " is not documented for " + method + " " + path};
  if (media != "application/json") return {};
  boost::system::error_code ec;
  auto body = json::parse(r.body, ec);
  if (ec) return {"the body is not JSON: " + r.body};
  return checker.check(media_doc->at("schema"), body);
}

// The operations answered so far, "GET /api/v1/jobs/{id}".
std::set<std::string> answered;

// Sends `req`, checks the answer against the document (and, when given, its status) and returns it.
asio::awaitable<http::response> checked(http::api& api, http::request req, unsigned expect = 0) {
  auto r = co_await api.handle(req);
  std::string operation;
  const auto errors = check_answer(req.method, req.target, r, &operation);
  std::string all;
  for (auto& e : errors) all += "\n  " + e;
  BOOST_TEST(errors.empty(), req.method << " " << req.target << " -> " << r.status << " " << r.body << all);
  if (expect) BOOST_TEST(r.status == expect, req.method << " " << req.target << " -> " << r.status << " " << r.body);
  answered.insert(operation);
  co_return r;
}

asio::awaitable<http::response> checked(http::api& api, std::string method, std::string target,
                                        std::string body = {}, unsigned expect = 0) {
  http::request req{std::move(method), std::move(target), "", std::move(body)};
  if (req.method != "GET") req.content_type = "application/json";
  req.host = "127.0.0.1:8080";
  co_return co_await checked(api, std::move(req), expect);
}

asio::awaitable<std::int64_t> created(http::api& api, std::string body) {
  auto r = co_await checked(api, "POST", "/api/v1/jobs", std::move(body), 201);
  co_return body_of(r).at("id").as_int64();
}

// Polls GET target until it answers `status` (each answer checked). The lambdas are named: GCC 12
// destroys temporaries that own memory twice inside a co_await expression.
asio::awaitable<http::response> until_status(http::api& api, std::string target, unsigned status) {
  auto probe = [&api, target] { return checked(api, "GET", target); };
  auto done = [status](const http::response& r) { return r.status == status; };
  auto describe = [target, status](const http::response& r) {
    return "GET " + target + " answered " + std::to_string(r.status) + ", not " + std::to_string(status);
  };
  auto r = co_await poll_until(probe, done, describe, 15s, 20ms);
  co_return r;
}

// The admin API as `spool run` has it: the runtime's routes, the diagnostic and the AI kinds and
// their routes. The scenario gets the runtime and the API.
struct spool_run_harness : api_harness {
  spool_run_harness() {
    settings.profiles.debounce_s = 0.05;
    kinds.add("answer", [](jobs::job_context&) -> asio::awaitable<jobs::outcome> {
      co_return jobs::outcome::success(R"({"tokens":12,"labels":["a","b"]})");
    });
  }

  template <class Scenario>
  void run(Scenario scenario) {
    asio::io_context ioc(threads);
    auto svc = kinds::ai::make_services(ioc.get_executor(), settings);
    kinds::ai::register_kinds(kinds, svc, settings);
    runtime::runtime rt(ioc.get_executor(), settings, std::move(kinds), {kinds::ai::schema()});
    http::api api(rt, {});
    kinds::ai::add_routes(api.routes(), *svc);
    drive(ioc, rt, scenario(rt, api));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_route_is_documented_and_every_documented_operation_is_registered) {
  std::set<std::string> registered, documented;
  spool_run_harness h;
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    for (auto& route : api.routes().routes()) registered.insert(route.method + " " + route.path);
    co_return;
  });
  for (auto& [path, item] : document().at("paths").as_object())
    for (auto& [method, _] : item.as_object()) {
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + std::string(path));
    }
  BOOST_TEST(registered.size() > 20u);
  for (auto& r : registered) BOOST_TEST(documented.contains(r), r << " is registered but not documented");
  for (auto& d : documented) BOOST_TEST(registered.contains(d), d << " is documented but not registered");
  BOOST_TEST(document().at("openapi").as_string() == "3.1.0");
}

BOOST_AUTO_TEST_CASE(the_served_document_is_the_file) {
  std::ifstream in(std::string(SPOOL_SOURCE_DIR) + "/http/openapi.json", std::ios::binary);
  BOOST_REQUIRE(in);
  std::stringstream file;
  file << in.rdbuf();
  live_server server;
  client c(server.port());
  auto r = c.request("GET", "/api/v1/openapi.json");
  BOOST_REQUIRE_MESSAGE(r, c.last_error().message());
  BOOST_TEST(r->result_int() == 200u);
  BOOST_TEST(std::string((*r)[bhttp::field::content_type]) == "application/json");
  BOOST_TEST(r->body() == file.str());
}

BOOST_AUTO_TEST_CASE(real_answers_match_the_documented_schemas) {
  answered.clear();
  spool_run_harness h;
  config::periodic_settings nightly;
  nightly.name = "nightly";
  nightly.cron = "0 3 * * *";
  nightly.kind = "noop";
  h.settings.periodic = {nightly};
  // One "remote" job at a time, cluster-wide: a second one waits, held back by the limit.
  h.settings.limits = {{.kind = "remote", .queue = "", .concurrency = 1, .partition_by = ""},
                       {.kind = "noop", .queue = "", .concurrency = 100, .partition_by = "payload.user"}};
  // A kind that hands its attempt token out (as an HTTP kind does) and runs until told to end.
  std::mutex token_mutex;
  std::string token;
  std::atomic<bool> release{false};
  h.kinds.add("remote", [&](jobs::job_context& ctx) -> asio::awaitable<jobs::outcome> {
    {
      std::lock_guard lock(token_mutex);
      token = ctx.attempt_token();
    }
    while (!release) co_await sleep_for(5ms);
    co_return jobs::outcome::success();
  });
  h.run([&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
    // An application's progress report with its attempt's token; refused without one.
    const auto remote = co_await created(api, R"({"kind":"remote"})");
    co_await poll_until(
        [&]() -> asio::awaitable<bool> {
          std::lock_guard lock(token_mutex);
          co_return !token.empty();
        },
        [](bool has) { return has; }, [](bool) { return std::string("no attempt token"); }, 10s);
    const auto second = co_await created(api, R"({"kind":"remote"})");
    auto held_job = co_await checked(api, "GET", "/api/v1/jobs/" + std::to_string(second), "", 200);
    BOOST_TEST(body_of(held_job).at("held_back").as_string() == "limit kind:remote is full (1 of 1 running)");
    auto limits = co_await checked(api, "GET", "/api/v1/limits", "", 200);
    BOOST_TEST(body_of(limits).at("limits").as_array().size() == 2u);
    BOOST_TEST(body_of(limits).at("limits").at(0).at("running").as_int64() == 1);
    BOOST_TEST(body_of(limits).at("limits").at(0).at("waiting").as_int64() == 1);
    BOOST_TEST(body_of(limits).at("limits").at(0).at("full").as_bool());
    auto progress = [&](std::string with, std::string body) {
      http::request req{"POST", "/api/v1/jobs/" + std::to_string(remote) + "/progress", "", std::move(body)};
      req.content_type = "application/json";
      req.host = "127.0.0.1:8080";
      req.attempt_token = std::move(with);
      return req;
    };
    std::string held;
    {
      std::lock_guard lock(token_mutex);
      held = token;
    }
    co_await checked(api, progress(held, R"({"fraction":0.5,"note":"half"})"), 202);
    co_await checked(api, progress("", R"({"fraction":0.5})"), 403);
    co_await checked(api, progress(held, R"({"fraction":5})"), 422);
    co_await checked(api, progress(held, R"([1])"), 400);
    release = true;
    co_await await_state(api, remote, "completed");

    // Probes, page, document, stats, metrics.
    co_await checked(api, "GET", "/healthz", "", 200);
    co_await checked(api, "GET", "/readyz", "", 200);
    co_await checked(api, "GET", "/", "", 200);
    co_await checked(api, "GET", "/api/v1/openapi.json", "", 200);
    co_await checked(api, "GET", "/api/v1/stats", "", 200);
    co_await checked(api, "GET", "/metrics", "", 200);

    // Enqueue: one, a duplicate, a conflict, refusals, a batch.
    const auto done = co_await created(api, R"({"kind":"answer"})");
    co_await await_state(api, done, "completed");
    auto with_result = co_await checked(api, "GET", "/api/v1/jobs/" + std::to_string(done), "", 200);
    BOOST_TEST(body_of(with_result).at("result").is_object());
    const auto later = co_await created(api, R"({"kind":"noop","unique_key":"k1","delay_s":3600,"priority":3})");
    co_await checked(api, "POST", "/api/v1/jobs", R"({"kind":"noop","unique_key":"k1"})", 200);
    co_await checked(api, "POST", "/api/v1/jobs", R"({"kind":"noop","unique_key":"k1","on_conflict":"error"})", 409);
    co_await checked(api, "POST", "/api/v1/jobs", R"({"kind":"no_such_kind"})", 422);
    co_await checked(api, "POST", "/api/v1/jobs", R"({"kind":"noop","surprise":1})", 400);
    co_await checked(api, "POST", "/api/v1/jobs/batch", R"([{"kind":"noop"},{"kind":"noop","delay_s":3600}])", 201);
    co_await checked(api, "POST", "/api/v1/jobs/batch", "[]", 400);

    // Search and pages.
    auto page = co_await checked(api, "GET", "/api/v1/jobs?limit=1", "", 200);
    BOOST_TEST(body_of(page).at("next_cursor").is_int64());
    co_await checked(api, "GET", "/api/v1/jobs?kind=noop&state=scheduled&created_after=2020-01-01T00:00:00Z", "", 200);
    co_await checked(api, "GET", "/api/v1/jobs?state=bogus", "", 422);
    co_await checked(api, "GET", "/api/v1/jobs?bogus=1", "", 400);
    co_await checked(api, "GET", "/api/v1/jobs/999999", "", 404);

    // One job: retry, cancel (a waiting one, a running one, a finished one).
    co_await checked(api, "POST", "/api/v1/jobs/" + std::to_string(later) + "/retry", "", 200);
    co_await await_state(api, later, "completed");
    co_await checked(api, "POST", "/api/v1/jobs/" + std::to_string(later) + "/retry", "", 409);
    co_await checked(api, "POST", "/api/v1/jobs/" + std::to_string(later) + "/cancel", "", 409);
    const auto waiting = co_await created(api, R"({"kind":"noop","delay_s":3600})");
    co_await checked(api, "POST", "/api/v1/jobs/" + std::to_string(waiting) + "/cancel", "", 200);
    const auto running = co_await created(api, R"({"kind":"sleep","payload":{"ms":60000,"steps":600}})");
    co_await await_state(api, running, "running");
    // Its progress (a report every 100 ms, stored every 500 ms), checked against the schema.
    co_await poll_until(
        [&api, running] { return get_job(api, running); },
        [](const json::object& job) { return !job.at("progress").is_null(); },
        [](const json::object&) { return std::string("no progress shown after 10 s"); }, 10s, 20ms);
    auto with_progress = co_await checked(api, "GET", "/api/v1/jobs/" + std::to_string(running), "", 200);
    BOOST_TEST(body_of(with_progress).at("progress").at("note").as_string().starts_with("step "));
    co_await checked(api, "POST", "/api/v1/jobs/" + std::to_string(running) + "/cancel", "", 202);

    // Bulk, by filter.
    co_await checked(api, "POST", "/api/v1/jobs/cancel", R"({"kind":"noop","dry_run":true})", 200);
    co_await checked(api, "POST", "/api/v1/jobs/cancel", "{}", 422);
    co_await checked(api, "POST", "/api/v1/jobs/retry", R"({"kind":"noop"})", 200);
    co_await checked(api, "POST", "/api/v1/jobs/retry", R"({"kind":"noop","dry_run":true})", 200);
    co_await checked(api, "POST", "/api/v1/jobs/cancel", R"({"queue":"other"})", 200);

    // The dead-letter queue.
    const auto dead = co_await created(api, R"({"kind":"fail","max_attempts":1,"payload":{"times":1000}})");
    co_await await_state(api, dead, "dead");
    auto dlq = co_await checked(api, "GET", "/api/v1/dlq", "", 200);
    BOOST_TEST(count_of(body_of(dlq)) == 1);
    co_await checked(api, "GET", "/api/v1/dlq?state=completed", "", 422);
    co_await checked(api, "POST", "/api/v1/dlq/" + std::to_string(dead) + "/requeue", "", 200);
    co_await await_state(api, dead, "dead");
    co_await checked(api, "POST", "/api/v1/dlq/requeue", R"({"kind":"fail"})", 200);
    co_await await_state(api, dead, "dead");
    co_await checked(api, "DELETE", "/api/v1/dlq/999999", "", 404);
    co_await checked(api, "DELETE", "/api/v1/dlq", "", 422);
    co_await checked(api, "DELETE", "/api/v1/dlq/" + std::to_string(dead), "", 200);
    co_await checked(api, "DELETE", "/api/v1/dlq?all=true", "", 200);

    // Queues, nodes, kinds, periodic schedules.
    co_await checked(api, "GET", "/api/v1/queues", "", 200);
    co_await checked(api, "POST", "/api/v1/queues/default/pause", "", 200);
    co_await checked(api, "POST", "/api/v1/queues/default/resume", "", 200);
    co_await checked(api, "POST", "/api/v1/queues/nope/pause", "", 200);
    co_await checked(api, "GET", "/api/v1/queues", "", 200);  // with a paused queue nobody serves
    co_await checked(api, "POST", "/api/v1/queues/no*such/pause", "", 422);
    co_await poll_until([&api] { return checked(api, "GET", "/api/v1/nodes"); },
                        [](const http::response& r) { return !body_of(r).at("nodes").as_array().empty(); },
                        [](const http::response& r) { return "no node listed: " + r.body; }, 10s, 20ms);
    co_await checked(api, "GET", "/api/v1/kinds", "", 200);
    auto periodic = co_await checked(api, "GET", "/api/v1/periodic", "", 200);
    BOOST_TEST(body_of(periodic).as_array().size() == 1u);

    // The AI kinds' results.
    const std::string activity = R"({"kind":"activity_processing","payload":)" +
                                 activity_payload("user-1", "act-1", "Went to the gym for a workout") + "}";
    co_await created(api, activity);
    co_await until_status(api, "/api/v1/activities/act-1/result", 200);
    co_await until_status(api, "/api/v1/profiles/user-1", 200);
    co_await checked(api, "GET", "/api/v1/activities/nothing/result", "", 404);
    co_await checked(api, "GET", "/api/v1/profiles/nobody", "", 404);

    // Sessions, and the guards: no token to sign in to, a cross-site POST, a form's content type.
    co_await checked(api, "POST", "/api/v1/session", R"({"token":"x"})", 409);
    co_await checked(api, "DELETE", "/api/v1/session", "", 200);
    http::request cross{"POST", "/api/v1/jobs", "", R"({"kind":"noop"})"};
    cross.content_type = "application/json";
    cross.host = "127.0.0.1:8080";
    cross.origin = "https://elsewhere.example";
    co_await checked(api, cross, 403);
    http::request form{"POST", "/api/v1/dlq/requeue", "", "kind=noop"};
    form.content_type = "application/x-www-form-urlencoded";
    form.host = "127.0.0.1:8080";
    co_await checked(api, form, 415);
  });
  // With a token: 401 without it, and the dashboard's sign-in.
  api_harness guarded;
  guarded.run(
      [&](runtime::runtime&, http::api& api) -> asio::awaitable<void> {
        co_await checked(api, "GET", "/api/v1/jobs", "", 401);
        co_await checked(api, "GET", "/metrics", "", 401);
        co_await checked(api, "POST", "/api/v1/session", R"({"token":"wrong"})", 401);
        co_await checked(api, "POST", "/api/v1/session", R"({"token":"secret"})", 200);
      },
      {.token = "secret"});
  // Every documented operation was answered at least once above.
  for (auto& [path, item] : document().at("paths").as_object())
    for (auto& [method, _] : item.as_object()) {
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const auto op = upper + " " + std::string(path);
      BOOST_TEST(answered.contains(op), op << " was never answered in this test");
    }
}

BOOST_AUTO_TEST_CASE(the_checker_refuses_wrong_answers) {
  auto answer = [](unsigned status, std::string body) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  };
  const std::string job =
      R"({"id":1,"kind":"noop","queue":"default","state":"completed","payload":{},"priority":0,"attempt":1,)"
      R"("max_attempts":null,"unique_key":null,"created_at":"2026-01-01T00:00:00.000000Z","run_at":null,)"
      R"("attempted_at":null,"finalized_at":null,"lease_until":null,"worker":null,"note":null,"errors":[],)"
      R"("depends_on":[],"progress":null,"result":null})";
  // The well-formed answer passes, so the refusals below are for what was changed.
  BOOST_TEST(check_answer("GET", "/api/v1/jobs/1", answer(200, job)).empty());
  auto changed = [&](std::string from, std::string to) {
    auto body = job;
    body.replace(body.find(from), from.size(), to);
    return answer(200, body);
  };
  const std::pair<const char*, http::response> wrong[] = {
      {"an unknown field", answer(200, job.substr(0, job.size() - 1) + R"(,"surprise":true})")},
      {"a string id", changed(R"("id":1)", R"("id":"1")")},
      {"a missing field", changed(R"("kind":"noop",)", "")},
      {"an unknown state", changed(R"("completed")", R"("finished")")},
      {"a time that is not RFC 3339", changed("2026-01-01T00:00:00.000000Z", "yesterday")},
      {"errors that are not a list", changed(R"("errors":[])", R"("errors":{})")},
      {"progress over 1", changed(R"("progress":null)", R"("progress":{"fraction":1.5,"note":"","at":"2026-01-01T00:00:00Z"})")},
      {"an undocumented status", answer(418, job)},
      {"an error without a code", answer(404, R"({"error":{"message":"no job"}})")},
      {"a bare error string", answer(404, R"({"error":"not found","code":"not_found"})")},
  };
  for (auto& [what, r] : wrong) BOOST_TEST(!check_answer("GET", "/api/v1/jobs/1", r).empty(), what << " passed");
  BOOST_TEST(!check_answer("GET", "/api/v1/nothing", answer(200, "{}")).empty());
  auto text = answer(200, "{}");
  text.content_type = "text/plain";
  BOOST_TEST(!check_answer("GET", "/api/v1/stats", text).empty(), "a text answer where JSON is documented passed");
  // An answer that fits neither branch of a oneOf.
  BOOST_TEST(!check_answer("POST", "/api/v1/jobs/cancel", answer(200, R"({"dry_run":true})")).empty());
}
