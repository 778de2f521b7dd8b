#include "runtime/job_runner.hpp"

#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>

namespace spool::runtime {
namespace asio = boost::asio;

jobs::outcome settle(jobs::outcome result, cancel_reason why, jobs::duration timeout) {
  if (result.kind == jobs::outcome::type::succeeded || result.kind == jobs::outcome::type::snoozed)
    return result;
  switch (why) {
    case cancel_reason::shutdown: return jobs::outcome::interrupt();
    case cancel_reason::operator_request: return jobs::outcome::cancel("cancelled by operator");
    case cancel_reason::timeout:
      return jobs::outcome::error("timed out after " +
                                  std::to_string(std::chrono::duration<double>(timeout).count()) + " s");
    case cancel_reason::none: break;
  }
  return result;
}

asio::awaitable<jobs::outcome> run_attempt(const jobs::claimed_job& job,
                                           const jobs::registry::entry* entry,
                                           jobs::duration timeout,
                                           const jobs::job_context::log_fn& log,
                                           const jobs::job_context::enqueue_fn& enqueue,
                                           const std::atomic<int>& reason) {
  // A deploy may be rolling out: another node may know this kind, so this is retryable.
  if (!entry) co_return jobs::outcome::error("no handler for kind '" + job.kind + "'");

  boost::system::error_code ec;
  auto payload = boost::json::parse(job.payload, ec);
  if (ec || !payload.is_object())
    co_return jobs::outcome::permanent("payload is not a JSON object");

  jobs::job_context ctx(job, payload.get_object(), log, enqueue);
  jobs::outcome result;
  try {
    result = co_await entry->run(ctx);
  } catch (const jobs::permanent_error& e) {
    result = jobs::outcome::permanent(e.what());
  } catch (const std::exception& e) {
    result = jobs::outcome::error(e.what());
  } catch (...) {
    result = jobs::outcome::error("handler threw an unknown exception (not a std::exception)");
  }
  co_return settle(std::move(result), static_cast<cancel_reason>(reason.load()), timeout);
}

}  // namespace spool::runtime
