#pragma once
// activity_processing {"user_id","activity_id","type","text","occurred_at"}: validates the
// payload (a malformed one fails permanently, naming the field), has the backend analyse the
// activity, upserts the analysis into activity_results keyed by activity_id, then enqueues
// profile_generation for the user, debounced by a unique key.
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "jobs/handler.hpp"
#include "kinds/ai/services.hpp"

namespace spool::kinds::ai {

inline constexpr std::string_view activity_kind = "activity_processing";

boost::asio::awaitable<jobs::outcome> process_activity(std::shared_ptr<services> svc, jobs::job_context& ctx);

// The follow-up job: profile_generation {"user_id"} with unique key "profile:<user_id>", due
// `debounce` after `now`. While it waits, more activities of the user find its key taken, so a
// burst yields one profile job.
jobs::new_job profile_job_for(const std::string& user_id, const std::string& queue, jobs::time_point now,
                        jobs::duration debounce);

}  // namespace spool::kinds::ai
