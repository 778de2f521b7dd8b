#pragma once
// The JSON face of a job (CLI --json output, later the admin API) and RFC 3339 times.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job.hpp"
#include "jobs/registry.hpp"

namespace spool::jobs {

std::string to_rfc3339(time_point t);  // "2026-11-28T14:00:00.123456Z"
std::optional<time_point> parse_rfc3339(std::string_view text);

boost::json::object to_json(const job& j);

// The kinds a runtime runs and the policy each runs under (`spool kinds`, GET /api/v1/kinds),
// by name: {"kind", "max_attempts", "retry_base_s", "retry_cap_s", "retry_jitter", "timeout_s",
// "payload_checked"}.
boost::json::array kinds_to_json(const registry& kinds, const config::settings& settings);

// JSON text like boost::json::serialize, but numbers with a fraction in plain decimals
// (61.530952, not 6.1530952E1): what people and jq users expect to read.
std::string to_text(const boost::json::value& v);

}  // namespace spool::jobs
