#include "kinds/ai/kinds.hpp"

#include <algorithm>

#include "kinds/ai/activity_processing.hpp"
#include "kinds/ai/payload.hpp"
#include "kinds/ai/profile_generation.hpp"

namespace spool::kinds::ai {

jobs::kind_options ai_kind_options(const config::settings& settings) {
  jobs::kind_options o;
  o.retry.base = std::chrono::seconds(2);
  o.retry.cap = std::chrono::minutes(10);
  o.retry.max_attempts = 10;
  // A minute on top of the client's timeout for waiting for a free inference slot.
  const double seconds = std::max(300.0, settings.inference.timeout_s + 60);
  o.timeout = std::chrono::duration_cast<jobs::duration>(std::chrono::duration<double>(seconds));
  return o;
}

void register_kinds(jobs::registry& reg, std::shared_ptr<services> svc, const config::settings& settings) {
  auto activity_options = ai_kind_options(settings), profile_options = activity_options;
  // A malformed payload is refused at enqueue (CLI exit 2, API 422) naming the field, rather than
  // found when the job runs.
  activity_options.check_payload = [](const boost::json::object& p) -> std::optional<std::string> {
    auto parsed = parse_activity(p);
    if (auto* e = std::get_if<payload_error>(&parsed)) return e->message();
    return std::nullopt;
  };
  profile_options.check_payload = [](const boost::json::object& p) -> std::optional<std::string> {
    auto parsed = parse_profile_request(p);
    if (auto* e = std::get_if<payload_error>(&parsed)) return e->message();
    return std::nullopt;
  };
  // Plain lambdas that call the coroutines: a coroutine lambda's captures live in the lambda
  // object, not in the coroutine frame, so the frame gets the shared_ptr as a parameter instead.
  reg.add(std::string(activity_kind),
          [svc](jobs::job_context& ctx) { return process_activity(svc, ctx); }, activity_options);
  reg.add(std::string(profile_kind),
          [svc](jobs::job_context& ctx) { return generate_profile(svc, ctx); }, profile_options);
}

}  // namespace spool::kinds::ai
