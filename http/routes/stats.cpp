// /api/v1/stats (totals by state; throughput and failure rate over 1, 5 and 15 minutes) and
// /metrics (Prometheus).
#include "http/metrics_text.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"
#include "runtime/limits_view.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> stats(const exchange& x) {
  auto count = [](store::store& s) { return s.count(jobs::now()); };
  auto got = co_await on_db(x.rt, std::move(count));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  json::object totals;
  for (auto& [st, n] : std::get<0>(got).states) totals[st] = n;
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(jobs::now().time_since_epoch()).count();
  json::object windows;
  for (auto [label, span] : {std::pair{"1m", 60}, std::pair{"5m", 300}, std::pair{"15m", 900}}) {
    auto t = spool::runtime::stats_of(x.rt).rates.last(now_s, span);
    windows[label] = json::object{
        {"finished", t.finished},
        {"failed", t.failed},
        {"throughput_per_s", static_cast<double>(t.finished) / span},
        {"failure_rate", t.finished ? static_cast<double>(t.failed) / t.finished : 0.0}};
  }
  co_return json_response(200, json::object{{"totals", totals}, {"windows", windows}});
}

// Only the leader reads the database for a scrape (cluster_view); other nodes answer from memory.
asio::awaitable<response> metrics_page(const exchange& x) {
  response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (!spool::runtime::leads(x.rt)) {
    r.body = render_metrics(x.rt, nullptr);
    co_return r;
  }
  auto read = [limits = runtime::limits_of(x.rt.settings())](store::store& s) {
    return read_cluster_view(s, limits);
  };
  auto got = co_await on_db(x.rt, std::move(read));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  r.body = render_metrics(x.rt, &std::get<0>(got));
  co_return r;
}

}  // namespace

void add_stats_routes(router& r) {
  r.add("GET", "/api/v1/stats", stats);
  r.add("GET", "/metrics", metrics_page);
}

}  // namespace spool::http
