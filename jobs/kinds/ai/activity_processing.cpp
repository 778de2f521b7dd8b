#include "jobs/kinds/ai/activity_processing.hpp"

#include <boost/json/serialize.hpp>

#include "jobs/kinds/ai/error_map.hpp"
#include "jobs/kinds/ai/profile_generation.hpp"

namespace spool::jobs::kinds::ai {
namespace asio = boost::asio;
namespace json = boost::json;

new_job profile_job_for(const std::string& user_id, const std::string& queue, time_point now,
                        duration debounce) {
  new_job j;
  j.kind = std::string(profile_kind);
  j.queue = queue;
  j.payload = json::serialize(json::object{{"user_id", user_id}});
  j.run_at = now + debounce;
  j.unique_key = "profile:" + user_id;
  return j;
}

asio::awaitable<outcome> process_activity(std::shared_ptr<services> svc, job_context& ctx) {
  auto parsed = parse_activity(ctx.payload());
  if (auto* bad = std::get_if<payload_error>(&parsed)) co_return outcome::permanent(bad->message());
  const auto& act = std::get<activity>(parsed);

  auto analysed = co_await svc->backend->analyze(act);
  if (auto* failed = std::get_if<inference_failure>(&analysed)) {
    ctx.log(std::string(to_string(failed->kind)) + ": " + failed->message);
    co_return to_outcome(*failed);
  }

  store::activity_result row;
  row.activity_id = act.activity_id;
  row.user_id = act.user_id;
  row.type = act.type;
  row.occurred_at = act.occurred_at;
  row.analysis = json::serialize(to_json(std::get<activity_analysis>(analysed)));
  row.backend = svc->backend->name();
  row.job_id = ctx.job().id;
  auto save = [row = std::move(row), now = jobs::now()](store::results_store& r) {
    return r.upsert(row, now);
  };
  co_await svc->results->run(std::move(save));

  // Also after a rerun that changed nothing: the attempt that wrote the row may have died before
  // it got here. A profile that is already up to date costs its job one read.
  std::vector<new_job> next{profile_job_for(act.user_id, ctx.job().queue, jobs::now(), svc->debounce)};
  co_await ctx.enqueue(std::move(next));
  co_return outcome::success();
}

}  // namespace spool::jobs::kinds::ai
