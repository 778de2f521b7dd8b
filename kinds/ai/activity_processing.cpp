#include "kinds/ai/activity_processing.hpp"

#include <boost/json/serialize.hpp>

#include "jobs/unique.hpp"
#include "kinds/ai/error_map.hpp"
#include "kinds/ai/profile_generation.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;
namespace json = boost::json;

jobs::new_job profile_job_for(const std::string& user_id, const std::string& queue, jobs::time_point now,
                        jobs::duration debounce) {
  jobs::new_job j;
  j.kind = std::string(profile_kind);
  j.queue = queue;
  j.payload = json::serialize(json::object{{"user_id", user_id}});
  j.run_at = now + debounce;
  j.unique_key = "profile:" + user_id;
  // Held while the job waits, not while it runs: an activity that arrives once the profile job
  // has read the activities must get a job of its own.
  j.unique_states = jobs::waiting_states;
  return j;
}

asio::awaitable<jobs::outcome> process_activity(std::shared_ptr<services> svc, jobs::job_context& ctx) {
  auto parsed = parse_activity(ctx.payload());
  if (auto* bad = std::get_if<payload_error>(&parsed)) co_return jobs::outcome::permanent(bad->message());
  const auto& act = std::get<activity>(parsed);

  auto analysed = co_await svc->backend->analyze(act);
  if (auto* failed = std::get_if<inference_failure>(&analysed)) {
    ctx.log(std::string(to_string(failed->kind)) + ": " + failed->message);
    co_return to_outcome(*failed);
  }

  activity_result row;
  row.activity_id = act.activity_id;
  row.user_id = act.user_id;
  row.type = act.type;
  row.occurred_at = act.occurred_at;
  row.analysis = json::serialize(to_json(std::get<activity_analysis>(analysed)));
  row.backend = svc->backend->name();
  row.job_id = ctx.job().id;
  auto save = [row = std::move(row), now = jobs::now()](results_store& r) {
    return r.upsert(row, now);
  };
  co_await svc->results->run(std::move(save));

  // Also after a rerun that changed nothing: the attempt that wrote the row may have died before
  // its success was committed. A profile that is already up to date costs its job one read.
  ctx.enqueue(profile_job_for(act.user_id, ctx.job().queue, jobs::now(), svc->debounce));
  co_return jobs::outcome::success();
}

}  // namespace spool::kinds::ai
