#pragma once
// profile_generation {"user_id"}: reads the user's latest N processed activities, has the backend
// write a profile from them and upserts it into `profiles`. Idempotent: a profile built from the
// same or newer activities is left alone, and the backend is not even asked.
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "jobs/handler.hpp"
#include "kinds/ai/services.hpp"

namespace spool::kinds::ai {

inline constexpr std::string_view profile_kind = "profile_generation";

boost::asio::awaitable<jobs::outcome> generate_profile(std::shared_ptr<services> svc, jobs::job_context& ctx);

}  // namespace spool::kinds::ai
