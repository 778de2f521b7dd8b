#include "jobs/lifecycle.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace spool::jobs {

std::string_view to_string(transition::to t) {
  switch (t) {
    case transition::to::completed: return "completed";
    case transition::to::retry: return "retry";
    case transition::to::dead: return "dead";
    case transition::to::cancelled: return "cancelled";
    case transition::to::requeue: return "requeue";
  }
  return "unknown";
}

outcome check_result(outcome result, std::size_t max_bytes) {
  if (result.kind != outcome::type::succeeded || result.result.empty()) return result;
  if (result.result.size() > max_bytes)
    return outcome::error("the job's result is " + std::to_string(result.result.size()) +
                          " bytes, over the limit of " + std::to_string(max_bytes) +
                          " (setting result_max_bytes)");
  boost::system::error_code ec;
  boost::json::parse(result.result, ec);
  if (ec) return outcome::error("the job's result is not valid JSON: " + ec.message());
  return result;
}

std::string snooze_refusal(const snooze_tally& after, const snooze_ceiling& ceiling) {
  if (after.count > ceiling.max_snoozes)
    return "snoozed " + std::to_string(after.count) + " times, more than max_snoozes " +
           std::to_string(ceiling.max_snoozes);
  if (after.total > ceiling.max_total) {
    using seconds = std::chrono::duration<double>;
    return fmt::format("snoozed for {:g} s in all, more than max_snooze_total_s {:g}",
                       std::chrono::duration_cast<seconds>(after.total).count(),
                       std::chrono::duration_cast<seconds>(ceiling.max_total).count());
  }
  return {};
}

transition decide(const outcome& result, int attempt, int max_attempts, const retry_policy& policy,
                  time_point now, std::mt19937_64& rng, snooze_tally so_far,
                  const snooze_ceiling& ceiling) {
  const snooze_tally tally{so_far.count + 1,
                          so_far.total + std::max(result.snooze_for, duration::zero())};
  if (result.kind == outcome::type::snoozed) {
    // Over the ceiling, the snooze is a failed attempt: the retry policy, then the dead-letter
    // queue. The tally is not recorded, so each later snooze is refused the same way.
    if (auto refusal = snooze_refusal(tally, ceiling); !refusal.empty())
      return decide(outcome::error(std::move(refusal)), attempt, max_attempts, policy, now, rng);
  }
  const int limit = max_attempts > 0 ? max_attempts : policy.max_attempts;
  transition t;
  t.at = now;
  t.attempt = attempt;
  using type = outcome::type;
  switch (result.kind) {
    case type::succeeded:
      t.next = transition::to::completed;
      t.result = result.result;
      break;
    case type::cancelled:
      t.next = transition::to::cancelled;
      t.note = result.message;
      break;
    case type::snoozed:
    case type::interrupted:
      t.next = transition::to::requeue;
      t.attempt = std::max(attempt - 1, 0);
      t.run_at = now + std::max(result.snooze_for, duration::zero());
      if (result.kind == type::snoozed) t.snoozed = tally;
      break;
    case type::failed:
    case type::failed_permanently:
      t.error = error_entry{attempt, now, result.message};
      if (result.kind == type::failed_permanently || attempt >= limit) {
        t.next = transition::to::dead;
        t.note = result.message;
      } else {
        t.next = transition::to::retry;
        t.run_at = now + policy.delay(attempt, rng);
      }
      break;
  }
  return t;
}

}  // namespace spool::jobs
