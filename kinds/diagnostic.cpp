#include "kinds/diagnostic.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace spool::kinds {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::int64_t int_field(const json::object& o, std::string_view key, std::int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (auto* i = v->if_int64()) return *i;
  if (auto* u = v->if_uint64()) return static_cast<std::int64_t>(*u);
  throw jobs::permanent_error("payload field '" + std::string(key) + "' must be an integer");
}

bool bool_field(const json::object& o, std::string_view key, bool fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (auto* b = v->if_bool()) return *b;
  throw jobs::permanent_error("payload field '" + std::string(key) + "' must be a boolean");
}

// A "result" in the payload comes back as the job's result: a job with a result to show (demos,
// the dashboard's test) without an application.
asio::awaitable<jobs::outcome> noop(jobs::job_context& ctx) {
  if (auto* result = ctx.payload().if_contains("result")) {
    std::string text = json::serialize(*result);
    co_return jobs::outcome::success(std::move(text));
  }
  co_return jobs::outcome::success();
}

// With "steps": N, sleeps in N equal steps and reports progress after each ("step i of N").
asio::awaitable<jobs::outcome> sleep(jobs::job_context& ctx) {
  const auto ms = int_field(ctx.payload(), "ms", 0);
  const auto steps = std::max<std::int64_t>(1, int_field(ctx.payload(), "steps", 1));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (std::int64_t i = 1; i <= steps; ++i) {
    timer.expires_after(std::chrono::milliseconds(ms / steps));
    co_await timer.async_wait(asio::use_awaitable);
    if (steps > 1)
      ctx.progress(static_cast<double>(i) / static_cast<double>(steps),
                   "step " + std::to_string(i) + " of " + std::to_string(steps));
  }
  co_return jobs::outcome::success();
}

// Enqueues `count` follow-ups of kind `then` (payload {"parent": ID, "n": I}), then sleeps `ms`
// and succeeds: the follow-ups exist once the success is committed, never before.
asio::awaitable<jobs::outcome> chain(jobs::job_context& ctx) {
  const auto count = int_field(ctx.payload(), "count", 1);
  std::string then = "noop";
  if (auto* v = ctx.payload().if_contains("then")) {
    if (!v->is_string()) throw jobs::permanent_error("payload field 'then' must be a string");
    then = std::string(v->get_string());
  }
  for (std::int64_t i = 0; i < count; ++i)
    ctx.enqueue(jobs::new_job{.kind = then, .queue = ctx.job().queue,
                              .payload = R"({"parent":)" + std::to_string(ctx.job().id) +
                                         R"(,"n":)" + std::to_string(i) + "}"});
  asio::steady_timer timer(co_await asio::this_coro::executor,
                           std::chrono::milliseconds(int_field(ctx.payload(), "ms", 0)));
  co_await timer.async_wait(asio::use_awaitable);
  co_return jobs::outcome::success();
}

asio::awaitable<jobs::outcome> fail(jobs::job_context& ctx) {
  const auto times = int_field(ctx.payload(), "times", 1);
  if (ctx.attempt() > times) co_return jobs::outcome::success();
  const std::string msg = "diagnostic failure " + std::to_string(ctx.attempt()) + " of " +
                          std::to_string(times);
  if (bool_field(ctx.payload(), "permanent", false)) co_return jobs::outcome::permanent(msg);
  co_return jobs::outcome::error(msg);
}

asio::awaitable<jobs::outcome> abort_process(jobs::job_context& ctx) {
  ctx.log("aborting the process on purpose (diagnostic poison pill)");
  std::abort();
  co_return jobs::outcome::success();
}

// Throws something that is not a std::exception, as careless code or a C library callback might.
asio::awaitable<jobs::outcome> throw_other(jobs::job_context&) {
  throw 42;
  co_return jobs::outcome::success();
}

// Waits for an event that never comes: only cancellation (the kind's timeout, an operator cancel,
// shutdown) ends it.
asio::awaitable<jobs::outcome> hang(jobs::job_context&) {
  asio::steady_timer never(co_await asio::this_coro::executor,
                           asio::steady_timer::time_point::max());
  co_await never.async_wait(asio::use_awaitable);
  co_return jobs::outcome::success();
}

// Allocates (and touches) `step_mb` MiB every millisecond, yielding between steps so that
// cancellation reaches it, until `cap_mb`; then holds the memory until cancelled. The cap keeps a
// broken timeout from taking the machine down.
asio::awaitable<jobs::outcome> hog(jobs::job_context& ctx) {
  const auto step =
      static_cast<std::size_t>(std::max<std::int64_t>(1, int_field(ctx.payload(), "step_mb", 1)));
  const auto cap =
      static_cast<std::size_t>(std::max<std::int64_t>(1, int_field(ctx.payload(), "cap_mb", 256)));
  std::vector<std::unique_ptr<char[]>> held;
  std::size_t held_mb = 0;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    if (held_mb + step <= cap) {
      held.push_back(std::make_unique<char[]>(step << 20));
      std::memset(held.back().get(), 1, step << 20);  // resident, not just reserved
      held_mb += step;
    }
    pause.expires_after(std::chrono::milliseconds(1));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

// Blocks its io_context thread with a synchronous sleep of `ms`, which no cancellation can
// interrupt: what the runtime's watchdog is there to report. Succeeds afterwards.
asio::awaitable<jobs::outcome> block(jobs::job_context& ctx) {
  std::this_thread::sleep_for(std::chrono::milliseconds(int_field(ctx.payload(), "ms", 1000)));
  co_return jobs::outcome::success();
}

}  // namespace

void register_diagnostic(jobs::registry& reg) {
  using namespace std::chrono_literals;
  reg.add("noop", noop);
  reg.add("sleep", sleep);
  reg.add("fail", fail);
  reg.add("chain", chain);
  reg.add("abort", abort_process);
  reg.add("throw", throw_other);
  // Both end only by cancellation; a demo should not wait the default five minutes for that.
  jobs::kind_options cancelled_after_30_s;
  cancelled_after_30_s.timeout = 30s;
  reg.add("hang", hang, cancelled_after_30_s);
  reg.add("hog", hog, cancelled_after_30_s);
  reg.add("block", block);
}

}  // namespace spool::kinds
