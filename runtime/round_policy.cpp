#include "runtime/round_policy.hpp"

#include <algorithm>

namespace spool::runtime {

round_plan plan_round(const round_state& s, round_state::time_point now,
                      std::chrono::steady_clock::duration max_delay) {
  const int room = s.claiming ? std::max(0, s.concurrency - s.handlers - s.reserved) : 0;
  const int claim = s.may_have_work ? std::min(room, max_round_jobs) : 0;
  if (s.buffered == 0 && claim == 0) return {};

  const int fill = std::clamp(s.concurrency / 2, 1, max_round_jobs);
  const bool full_enough = s.buffered >= fill || claim >= fill;
  if (full_enough || s.handlers == 0) return {.send = true, .claim = claim, .recheck_at = std::nullopt};

  std::optional<round_state::time_point> due;
  if (s.buffered > 0) due = s.oldest_buffered + max_delay;
  if (claim > 0) due = std::min(due.value_or(round_state::time_point::max()), s.wanted_since + max_delay);
  if (now >= *due) return {.send = true, .claim = claim, .recheck_at = std::nullopt};
  return {.send = false, .claim = 0, .recheck_at = due};
}

}  // namespace spool::runtime
