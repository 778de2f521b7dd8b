// The dashboard page, the API's OpenAPI document, and the probes: /healthz (the process answers)
// and /readyz (it is not draining and its database answers).
#include "http/dashboard.hpp"
#include "http/openapi.hpp"
#include "http/reply.hpp"
#include "http/routes/routes.hpp"

namespace spool::http {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

asio::awaitable<response> ready(const exchange& x) {
  if (x.rt.draining()) co_return error(503, "shutting_down", "the runtime is draining");
  auto ping = [](store::store& s) {
    s.ping();
    return true;
  };
  auto got = co_await on_db(x.rt, std::move(ping));
  if (auto* err = std::get_if<response>(&got)) co_return *err;
  co_return json_response(200, json::object{{"status", "ready"}});
}

handler fixed(response r) {
  return [r](const exchange&) -> asio::awaitable<response> { co_return r; };
}

}  // namespace

void add_page_routes(router& r) {
  response health;
  health.body = R"({"status":"alive"})";
  response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = std::string(dashboard_html());
  r.add("GET", "/healthz", fixed(std::move(health)));
  r.add("GET", "/readyz", ready);
  r.add("GET", "/", fixed(std::move(page)));
  // Under /api, so it needs the token like the rest of the API it describes.
  response openapi;
  openapi.body = std::string(openapi_json());
  r.add("GET", "/api/v1/openapi.json", fixed(std::move(openapi)));
}

}  // namespace spool::http
