#include "schedule/periodic.hpp"

#include <algorithm>

namespace spool::schedule {

step decide(const cron& c, catch_up mode, std::optional<time_point> last, time_point since,
            time_point now, duration grace) {
  step s;
  const auto floor = last.value_or(since);
  if (floor < now) {
    s.due = c.latest(now, floor);
    if (s.due && mode == catch_up::none && now - *s.due > grace) s.due.reset();
  }
  // A stored tick ahead of this node's clock (another leader's clock runs fast) is not repeated.
  s.next = c.next(std::max(now, floor));
  return s;
}

std::string tick_key(const std::string& name, time_point tick) {
  return "periodic:" + name + ":" + std::to_string(tick.time_since_epoch().count());
}

}  // namespace spool::schedule
