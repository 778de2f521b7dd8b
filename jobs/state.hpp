#pragma once
#include <optional>
#include <string_view>

namespace spool::jobs {

// The states an operator can tell apart. Waiting jobs (scheduled, available, retrying) share the
// ready set; which of the three a job is follows from its run_at and attempt (see ready_state).
// A pending job waits for the jobs it depends on (new_job::depends_on); it is in the ready set too,
// never due until its last parent completes.
enum class state { scheduled, available, running, retrying, completed, cancelled, dead, pending };

std::string_view to_string(state s);
std::optional<state> parse_state(std::string_view s);

// A waiting job is scheduled until due if it never ran, retrying if it did; due jobs are available.
constexpr state ready_state(bool due, int attempts_used) {
  if (due) return state::available;
  return attempts_used == 0 ? state::scheduled : state::retrying;
}

constexpr bool is_final(state s) {
  return s == state::completed || s == state::cancelled || s == state::dead;
}

}  // namespace spool::jobs
