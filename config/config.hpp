#pragma once
// Spool's settings (public: <spool/settings.hpp>) and the parsers the CLI shares with them.
#include <string_view>
#include <utility>

#include <spool/settings.hpp>

namespace spool::config {

// "NAME=CONCURRENCY" as given to --queue.
std::pair<std::string, int> parse_queue(std::string_view spec);
// The keys of a `kinds.KIND` object.
inline constexpr std::string_view kind_keys[] = {"retry_base_s", "retry_cap_s", "retry_jitter",
                                                 "max_attempts", "timeout_s", "max_snoozes",
                                                 "max_snooze_total_s"};
// A queue or kind name: 1-64 characters of [A-Za-z0-9_.:-].
bool valid_name(std::string_view name);

}  // namespace spool::config
