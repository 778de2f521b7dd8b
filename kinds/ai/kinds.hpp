#pragma once
// Registers the built-in AI kinds, activity_processing and profile_generation.
#include <memory>

#include "config/config.hpp"
#include "kinds/ai/services.hpp"
#include "jobs/registry.hpp"

namespace spool::kinds::ai {

// Retries back off from 2 s to 10 min over 10 attempts; the kinds' timeout leaves the client's
// own (inference.timeout_s) room to fire first, so the error says what happened. Both can be
// overridden per kind in the config's `kinds`.
jobs::kind_options ai_kind_options(const config::settings& settings);

void register_kinds(jobs::registry& reg, std::shared_ptr<services> svc, const config::settings& settings);

}  // namespace spool::kinds::ai
