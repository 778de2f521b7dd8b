#pragma once
#include <ostream>
#include <vector>

#include "jobs/job.hpp"
#include "persistence/store.hpp"

namespace spool::cli {

void print_table(std::ostream& out, const std::vector<jobs::job>& list);
void print_job(std::ostream& out, const jobs::job& j);
void print_json(std::ostream& out, const std::vector<jobs::job>& list);
void print_json(std::ostream& out, const jobs::job& j);
void print_stats(std::ostream& out, const store::stats& s);
void print_stats_json(std::ostream& out, const store::stats& s);

}  // namespace spool::cli
