// Bulk operations by filter: POST /api/v1/jobs/cancel and POST /api/v1/jobs/retry with a JSON body
// of the search's filters (http/job_filter.hpp), and "dry_run": true to only count the jobs they
// would act on. One of the filters, or "all": true, is required: an empty body acts on nothing.
#include <boost/json/value.hpp>

#include "http/job_filter.hpp"
#include "http/job_request.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// At most this many jobs per request: a larger set is worked through by repeating the request.
constexpr std::size_t max_jobs = 10000;

struct bulk_request {
  store::list_filter filter;
  bool dry_run = false;
};

std::variant<bulk_request, response> parse_bulk(const exchange& x) {
  bulk_request out;
  bool all = false;
  if (!x.where.query.empty()) return error(400, "bad_request", "the filter goes in the JSON body, not the query");
  auto body = parse_body(x.req.body.empty() ? std::string_view("{}") : std::string_view(x.req.body));
  if (auto* bad = std::get_if<bad_input>(&body)) return error(400, "bad_request", bad->message);
  const auto& v = std::get<json::value>(body);
  if (!v.is_object()) return error(400, "bad_request", "the filter must be a JSON object");
  for (auto& [key, val] : v.get_object()) {
    if (key == "dry_run" || key == "all") {
      if (!val.is_bool()) return error(400, "bad_request", "field '" + std::string(key) + "' must be true or false");
      (key == "dry_run" ? out.dry_run : all) = val.get_bool();
    } else if (is_filter_key(key)) {
      if (!val.is_string()) return error(400, "bad_request", "field '" + std::string(key) + "' must be a string");
      if (auto bad = apply_filter(out.filter, key, std::string(val.get_string()))) return *bad;
    } else {
      return error(400, "bad_request", "unknown field '" + std::string(key) + "'");
    }
  }
  if (!all && !any_filter(out.filter))
    return error(422, "filter_required", "give at least one filter, or \"all\": true");
  return out;
}

// The ids of the matching jobs in `eligible` states, newest first, a page at a time (keyset).
asio::awaitable<std::variant<std::vector<jobs::job_id>, response>> matching(runtime::runtime& rt,
                                                                           store::list_filter f,
                                                                           bool (*eligible)(jobs::state)) {
  std::vector<jobs::job_id> ids;
  f.limit = 1000;
  for (;;) {
    auto list = [f](store::store& s) { return s.list(f, jobs::now()); };
    auto got = co_await on_db(rt, std::move(list));
    if (auto* err = std::get_if<response>(&got)) co_return *err;
    auto& page = std::get<0>(got);
    for (auto& j : page)
      if (eligible(j.st) && ids.size() < max_jobs) ids.push_back(j.id);
    if (static_cast<int>(page.size()) < f.limit || ids.size() >= max_jobs) break;
    f.before = page.back().id;
  }
  co_return ids;
}

bool cancellable(jobs::state s) {
  return s != jobs::state::completed && s != jobs::state::cancelled && s != jobs::state::dead;
}
bool retryable(jobs::state s) { return s == jobs::state::scheduled || s == jobs::state::retrying; }

asio::awaitable<response> cancel_many(const exchange& x) {
  auto req = parse_bulk(x);
  if (auto* bad = std::get_if<response>(&req)) co_return *bad;
  const auto& br = std::get<bulk_request>(req);
  auto found = co_await matching(x.rt, br.filter, cancellable);
  if (auto* err = std::get_if<response>(&found)) co_return *err;
  auto& ids = std::get<0>(found);
  if (br.dry_run) co_return json_response(200, json::object{{"dry_run", true}, {"matched", ids.size()}});
  std::int64_t cancelled = 0, requested = 0, finished = 0;
  for (auto id : ids) {
    store::cancel_result r{};
    std::string failure;
    try {
      r = co_await x.rt.cancel(id);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) co_return error(503, "database_unavailable", failure);
    if (r == store::cancel_result::cancelled) ++cancelled;
    else if (r == store::cancel_result::requested) ++requested;
    else ++finished;  // it finished (or was pruned) since it was listed
  }
  co_return json_response(200, json::object{{"matched", ids.size()},
                                            {"cancelled", cancelled},
                                            {"cancel_requested", requested},
                                            {"already_finished", finished},
                                            {"truncated", ids.size() >= max_jobs}});
}

asio::awaitable<response> retry_many(const exchange& x) {
  auto req = parse_bulk(x);
  if (auto* bad = std::get_if<response>(&req)) co_return *bad;
  const auto& br = std::get<bulk_request>(req);
  auto found = co_await matching(x.rt, br.filter, retryable);
  if (auto* err = std::get_if<response>(&found)) co_return *err;
  auto& ids = std::get<0>(found);
  if (br.dry_run) co_return json_response(200, json::object{{"dry_run", true}, {"matched", ids.size()}});
  std::int64_t due = 0;
  for (auto id : ids) {
    store::retry_result r{};
    std::string failure;
    try {
      r = co_await x.rt.retry_now(id);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) co_return error(503, "database_unavailable", failure);
    if (r == store::retry_result::moved) ++due;
  }
  co_return json_response(200, json::object{{"matched", ids.size()}, {"due_now", due},
                                            {"truncated", ids.size() >= max_jobs}});
}

}  // namespace

void add_bulk_routes(router& r) {
  r.add("POST", "/api/v1/jobs/cancel", cancel_many);
  r.add("POST", "/api/v1/jobs/retry", retry_many);
}

}  // namespace spool::http
