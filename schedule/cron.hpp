#pragma once
// When a periodic job's ticks fall: a cron expression in a time zone. Plain code: it takes times
// and returns times (the zone's rules come from the system's tz database, through Howard
// Hinnant's date library).
//
//   "m h dom mon dow"       five fields, or six with seconds first ("s m h dom mon dow");
//                           each *, a value, a range a-b, a list a,b, a step */n or a-b/n;
//                           months JAN-DEC, weekdays SUN-SAT (0 and 7 are Sunday). When both day
//                           fields are restricted, a day matching either one matches (as cron).
//   @yearly @annually @monthly @weekly @daily @midnight @hourly
//   @every 30s | 5m | 1h30m  every so long, counted from the Unix epoch (so every node computes
//                           the same ticks), whatever the time zone
//
// Daylight saving time is handled as cron does: a job at a fixed time (neither its minute nor its
// hour is '*'-based) whose time is skipped by a spring-forward runs at the moment of the change,
// and runs once when an autumn fall-back repeats its time; a job with '*' in its minute or hour
// follows the wall clock: it has no runs in the skipped hour and runs again in the repeated one.
#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include <chrono>

namespace date {
class time_zone;
}

namespace spool::schedule {

// The same instants as spool::jobs::time_point: microseconds of the system clock.
using time_point = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;
using duration = std::chrono::microseconds;

class cron {
 public:
  // Throws std::invalid_argument naming the field or the zone that is wrong.
  static cron parse(std::string_view expression, std::string_view time_zone = "UTC");

  // The first tick strictly after `after`; nothing if there is none within five years (Feb 30th).
  std::optional<time_point> next(time_point after) const;
  // The latest tick at or before `at` and strictly after `after`, if any: the one a schedule that
  // missed its ticks (downtime) runs once to catch up.
  std::optional<time_point> latest(time_point at, time_point after) const;

  const std::string& expression() const { return expression_; }
  const std::string& time_zone() const { return zone_name_; }

 private:
  std::string expression_;
  std::string zone_name_;
  const date::time_zone* zone_ = nullptr;
  duration every_{};  // @every: the interval; zero for a calendar expression
  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1-31
  std::bitset<13> months_;  // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = false;      // the day-of-month field starts with '*'
  bool any_weekday_ = false;  // the day-of-week field starts with '*'
  bool fixed_time_ = false;   // neither minute nor hour starts with '*'
};

}  // namespace spool::schedule
