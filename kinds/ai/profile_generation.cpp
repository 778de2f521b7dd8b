#include "kinds/ai/profile_generation.hpp"

#include <boost/json/serialize.hpp>

#include "kinds/ai/error_map.hpp"

namespace spool::kinds::ai {
namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<jobs::outcome> generate_profile(std::shared_ptr<services> svc, jobs::job_context& ctx) {
  auto parsed = parse_profile_request(ctx.payload());
  if (auto* bad = std::get_if<payload_error>(&parsed)) co_return jobs::outcome::permanent(bad->message());
  const auto user = std::get<std::string>(std::move(parsed));

  auto read = [user, n = svc->latest_n](results_store& r) { return r.sources(user, n); };
  const auto sources = co_await svc->results->run(std::move(read));
  if (sources.latest.empty()) {
    ctx.log("user '" + user + "' has no processed activities: no profile to write");
    co_return jobs::outcome::success();
  }
  if (sources.profile_revision && *sources.profile_revision >= sources.revision) {
    ctx.log("profile of user '" + user + "' is up to date");
    co_return jobs::outcome::success();
  }

  auto made = co_await svc->backend->summarize(user, sources.latest);
  if (auto* failed = std::get_if<inference_failure>(&made)) {
    ctx.log(std::string(to_string(failed->kind)) + ": " + failed->message);
    co_return to_outcome(*failed);
  }

  profile_record rec;
  rec.user_id = user;
  rec.profile = json::serialize(to_json(std::get<profile>(made)));
  rec.generated_at = jobs::now();
  rec.source_count = static_cast<int>(sources.latest.size());
  rec.source_revision = sources.revision;
  rec.backend = svc->backend->name();
  auto save = [rec = std::move(rec)](results_store& r) { return r.upsert(rec); };
  const auto [what, version] = co_await svc->results->run(std::move(save));
  if (what == upsert_result::unchanged)
    ctx.log("a profile of user '" + user + "' from newer activities was written meanwhile");
  else
    ctx.log("profile of user '" + user + "' is now version " + std::to_string(version));
  co_return jobs::outcome::success();
}

}  // namespace spool::kinds::ai
