#pragma once
// When a periodic job enqueues, as plain code: given its schedule, the last tick enqueued (as the
// database remembers it) and the time, which tick is due now and when to look again. The leader's
// periodic service (runtime/maintenance) only waits and writes.
#include <optional>
#include <string>

#include "schedule/cron.hpp"

namespace spool::schedule {

enum class catch_up {
  one,   // after downtime, the latest missed tick runs (once)
  none,  // missed ticks are skipped: the schedule waits for its next tick
};

struct step {
  std::optional<time_point> due;   // the tick to enqueue now, if any (never after `now`)
  std::optional<time_point> next;  // the first tick after `now` (nothing: the schedule has no more)
};

// `last`: the last tick enqueued, or nothing for a schedule never run, which starts counting at
// `since` (when the service first saw it: a new schedule does not run ticks from before it was
// there). With catch_up none, a tick more than `grace` late counts as missed.
step decide(const cron& c, catch_up mode, std::optional<time_point> last, time_point since,
            time_point now, duration grace);

// The unique key of one tick's job: "periodic:NAME:TICK_US" (microseconds since the epoch).
std::string tick_key(const std::string& name, time_point tick);

}  // namespace spool::schedule
