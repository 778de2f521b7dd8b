#include "runtime/job_runner.hpp"

#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>

namespace spool::runtime {

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

std::optional<jobs::outcome> cannot_start(const jobs::claimed_job& job,
                                          const jobs::registry::entry* entry,
                                          boost::json::value& payload) {
  // A deploy may be rolling out: another node may know this kind, so this is retryable.
  if (!entry) return jobs::outcome::error("no handler for kind '" + job.kind + "'");
  if (job.payload == "{}") {  // the default payload: no parser needed
    payload = boost::json::object();
    return std::nullopt;
  }
  boost::system::error_code ec;
  payload = boost::json::parse(job.payload, ec);
  if (ec || !payload.is_object()) return jobs::outcome::permanent("payload is not a JSON object");
  return std::nullopt;
}

jobs::outcome outcome_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const jobs::permanent_error& e) {
    return jobs::outcome::permanent(e.what());
  } catch (const std::exception& e) {
    return jobs::outcome::error(e.what());
  } catch (...) {
    return jobs::outcome::error("handler threw an unknown exception (not a std::exception)");
  }
}

}  // namespace spool::runtime
