#pragma once
#include <optional>
#include <ostream>
#include <vector>

#include "jobs/job.hpp"
#include "persistence/store.hpp"

namespace spool::cli {

void print_table(std::ostream& out, const std::vector<jobs::job>& list);
// `max_attempts`: the job's own limit, or its kind's.
void print_job(std::ostream& out, const jobs::job& j, int max_attempts);
// {"jobs": [...], "next_cursor": ID or null}
void print_json(std::ostream& out, const std::vector<jobs::job>& list,
                std::optional<jobs::job_id> next_cursor);
void print_json(std::ostream& out, const jobs::job& j);
void print_stats(std::ostream& out, const store::stats& s);
void print_stats_json(std::ostream& out, const store::stats& s);

}  // namespace spool::cli
