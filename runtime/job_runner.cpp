#include "runtime/job_runner.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>

namespace spool::runtime {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

// Once the runtime cancelled a job, however the handler then ended (an aborted I/O error, a
// mapped error of its own) the cancellation is what happened, unless the work got done.
jobs::outcome settle(jobs::outcome result, const std::atomic<int>& reason) {
  if (result.kind == jobs::outcome::type::succeeded || result.kind == jobs::outcome::type::snoozed)
    return result;
  switch (static_cast<cancel_reason>(reason.load())) {
    case cancel_reason::shutdown: return jobs::outcome::interrupt();
    case cancel_reason::operator_request: return jobs::outcome::cancel("cancelled by operator");
    case cancel_reason::none: break;
  }
  return result;
}

asio::awaitable<jobs::outcome> attempt(const jobs::claimed_job& job,
                                           const jobs::registry::entry* entry,
                                           jobs::duration timeout,
                                           const jobs::job_context::log_fn& log,
                                           const jobs::job_context::enqueue_fn& enqueue,
                                           const std::atomic<int>&) {
  // A deploy may be rolling out: another node may know this kind, so this is retryable.
  if (!entry) co_return jobs::outcome::error("no handler for kind '" + job.kind + "'");

  boost::system::error_code ec;
  auto payload = boost::json::parse(job.payload, ec);
  if (ec || !payload.is_object())
    co_return jobs::outcome::permanent("payload is not a JSON object");

  jobs::job_context ctx(job, payload.get_object(), log, enqueue);
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  try {
    auto result = co_await (entry->run(ctx) || deadline.async_wait(asio::use_awaitable));
    if (result.index() == 1) {
      const auto secs = std::chrono::duration<double>(timeout).count();
      co_return jobs::outcome::error("timed out after " + std::to_string(secs) + " s");
    }
    co_return std::get<0>(std::move(result));
  } catch (const jobs::permanent_error& e) {
    co_return jobs::outcome::permanent(e.what());
  } catch (const boost::system::system_error& e) {
    co_return jobs::outcome::error(e.what());
  } catch (const std::exception& e) {
    co_return jobs::outcome::error(e.what());
  } catch (...) {
    co_return jobs::outcome::error("handler threw a non-standard exception");
  }
}

}  // namespace

asio::awaitable<jobs::outcome> run_attempt(const jobs::claimed_job& job,
                                           const jobs::registry::entry* entry,
                                           jobs::duration timeout,
                                           const jobs::job_context::log_fn& log,
                                           const jobs::job_context::enqueue_fn& enqueue,
                                           const std::atomic<int>& reason) {
  co_return settle(co_await attempt(job, entry, timeout, log, enqueue, reason), reason);
}

}  // namespace spool::runtime
