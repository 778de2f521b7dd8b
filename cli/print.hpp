#pragma once
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "jobs/job.hpp"
#include "persistence/store.hpp"

namespace spool::cli {

void print_table(std::ostream& out, const std::vector<jobs::job>& list);
// `max_attempts`: the job's own limit, or its kind's.
// `held_back`: why it does not start though due (runtime::held_back).
void print_job(std::ostream& out, const jobs::job& j, int max_attempts,
               const std::optional<std::string>& held_back = std::nullopt);
// {"jobs": [...], "next_cursor": ID or null}
void print_json(std::ostream& out, const std::vector<jobs::job>& list,
                std::optional<jobs::job_id> next_cursor);
void print_json(std::ostream& out, const jobs::job& j,
                const std::optional<std::string>& held_back = std::nullopt);
// The counts, then the concurrency limits with what they count now (none: no section).
void print_stats(std::ostream& out, const store::stats& s, std::span<const store::limit_use> limits = {});
void print_stats_json(std::ostream& out, const store::stats& s, std::span<const store::limit_use> limits = {});

}  // namespace spool::cli
