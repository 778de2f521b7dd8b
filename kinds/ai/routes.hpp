#pragma once
// The AI kinds' results on the admin API:
//   GET /api/v1/activities/{activity_id}/result   the analysis activity_processing wrote
//   GET /api/v1/profiles/{user_id}                 the profile profile_generation wrote
#include "http/router.hpp"
#include "kinds/ai/services.hpp"

namespace spool::kinds::ai {

// `svc` outlives the router's use: the handlers refer to it.
void add_routes(http::router& r, services& svc);

}  // namespace spool::kinds::ai
