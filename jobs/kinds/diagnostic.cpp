#include "jobs/kinds/diagnostic.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>

namespace spool::jobs::kinds {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::int64_t int_field(const json::object& o, std::string_view key, std::int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (auto* i = v->if_int64()) return *i;
  if (auto* u = v->if_uint64()) return static_cast<std::int64_t>(*u);
  throw permanent_error("payload field '" + std::string(key) + "' must be an integer");
}

bool bool_field(const json::object& o, std::string_view key, bool fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (auto* b = v->if_bool()) return *b;
  throw permanent_error("payload field '" + std::string(key) + "' must be a boolean");
}

asio::awaitable<outcome> noop(job_context&) { co_return outcome::success(); }

asio::awaitable<outcome> sleep(job_context& ctx) {
  const auto ms = int_field(ctx.payload(), "ms", 0);
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::use_awaitable);
  co_return outcome::success();
}

asio::awaitable<outcome> fail(job_context& ctx) {
  const auto times = int_field(ctx.payload(), "times", 1);
  if (ctx.attempt() > times) co_return outcome::success();
  const std::string msg = "diagnostic failure " + std::to_string(ctx.attempt()) + " of " +
                          std::to_string(times);
  if (bool_field(ctx.payload(), "permanent", false)) co_return outcome::permanent(msg);
  co_return outcome::error(msg);
}

asio::awaitable<outcome> abort_process(job_context& ctx) {
  ctx.log("aborting the process on purpose (diagnostic poison pill)");
  std::abort();
  co_return outcome::success();
}

}  // namespace

void register_diagnostic(registry& reg) {
  reg.add("noop", noop);
  reg.add("sleep", sleep);
  reg.add("fail", fail);
  reg.add("abort", abort_process);
}

}  // namespace spool::jobs::kinds
